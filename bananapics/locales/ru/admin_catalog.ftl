## Admin panel: pricing, packages, referrals, templates, system

adm-on = вкл
adm-off = выкл
adm-bad-empty = ⚠️ Отправьте текст.
adm-bad-model = ⚠️ Нет такой модели. Отправьте один из показанных id или - без модели.
adm-bad-settings = ⚠️ Пишите настройки как ключ=значение, например aspect_ratio=16:9 resolution=2K count=2, или - без настроек.
adm-bad-slug = ⚠️ Id — 1–32 символа: a-z, 0-9, - и _.
adm-bad-photo = ⚠️ Отправьте превью как фото (или файл JPEG, PNG или WEBP).
adm-done-moved = ✅ Перемещено.
btn-adm-up = ⬆️
btn-adm-down = ⬇️

# models and prices
adm-models-title = 💲 Модели и цены (токенов за изображение). ⭐ = модель по умолчанию.
btn-adm-model-row = { $state } { $name } · { $price }{ $default }
btn-adm-packages = 📦 Пакеты Stars
adm-model-head = 💲 { $name } ({ $id }) · { $state } { $default }
adm-model-default = · ⭐ по умолчанию
adm-model-base = Базовая цена: { $price } токенов за изображение
adm-model-extra-resolution = Надбавки за разрешение: { $extras }
adm-model-extra-quality = Надбавки за качество: { $extras }
adm-model-per-ref = За референс: +{ $price }
adm-model-limits = Лимиты: до { $refs } референсов, до { $count } изображений за запрос
adm-model-example = Пример, { $what }: { $explain } токенов
adm-model-example-default = 1 изображение, настройки по умолчанию
btn-adm-model-off = ⛔ Выключить
btn-adm-model-on = ✅ Включить
btn-adm-model-default = ⭐ По умолчанию
btn-adm-model-base = 💰 Базовая цена
btn-adm-model-ref = 🖼 За референс
btn-adm-model-extra = + { $option }
btn-adm-model-maxrefs = 📎 Макс. референсов
btn-adm-model-maxcount = 🔢 Макс. изображений
adm-model-field-base = базовая цена
adm-model-field-ref = цена за референс
adm-model-field-maxrefs = макс. референсов
adm-model-field-maxcount = макс. изображений за запрос
adm-model-field-resolution = надбавка за { $option }
adm-model-field-quality = надбавка за качество { $option }
adm-ask-model-value = ✍️ { $name }: новое значение «{ $what }»? Сейчас: { $current }.
adm-done-model-edit = ✅ { $name }: { $what } { $before } → { $after }.
adm-done-model-on = ✅ { $name } включена: пользователи снова могут её выбрать.
adm-done-model-default = ✅ { $name } теперь модель по умолчанию.
adm-model-off-ask = ⛔ Выключить { $name }? Новые запросы сразу не смогут её использовать. В очереди: { $queued }.
btn-adm-model-off-keep = ⛔ Выключить, очередь пусть выполнится
btn-adm-model-off-refund = ⛔ Выключить и вернуть { $count } в очереди
adm-effect-model-off = выключить { $name }. Генерации в очереди всё равно выполнятся.
adm-effect-model-off-refund = выключить { $name } и вернуть токены за { $queued } генераций в очереди (пользователям сообщат).
adm-done-model-off = ✅ { $name } выключена. Возвращено генераций: { $refunded }.

# packages
adm-pkgs-title = 📦 Пакеты Stars в том порядке, в каком их видят пользователи
btn-adm-pkg-row = { $state } ⭐ { $stars } → { $tokens } +{ $bonus }%
btn-adm-pkg-add = ➕ Новый пакет
adm-pkg =
    📦 Пакет #{ $id } · { $state }
    ⭐ { $stars } → { $tokens } токенов + { $bonus }% бонус ({ $bonus_tokens })
adm-pkg-on = в продаже
adm-pkg-off = не продаётся
btn-adm-pkg-stars = ⭐ Stars
btn-adm-pkg-tokens = 🪙 Токены
btn-adm-pkg-bonus = 🎁 Бонус %
btn-adm-pkg-off = ⛔ Снять с продажи
btn-adm-pkg-on = ✅ В продажу
adm-pkg-term-stars = цена в Stars
adm-pkg-term-tokens = токены
adm-pkg-term-bonus = бонус %
adm-ask-pkg-value = ✍️ Новое значение «{ $what }»? Сейчас: { $current }.
adm-done-pkg-edit = ✅ Пакет: { $what } { $before } → { $after }. Уже отправленные счета сохраняют свои условия.
adm-done-pkg-on = ✅ Пакет ⭐ { $stars } в продаже.
adm-done-pkg-off = ✅ Пакет ⭐ { $stars } снят с продажи.
adm-ask-pkg-stars = ✍️ Новый пакет: цена в Stars?
adm-ask-pkg-tokens = ✍️ Сколько токенов он даёт?
adm-ask-pkg-bonus = ✍️ Бонус % (0 — без бонуса)?
adm-effect-pkg-add = добавить пакет: ⭐ { $stars } → { $tokens } токенов + { $bonus }% ({ $bonus_tokens } бонус), в продаже.
adm-done-pkg-add = ✅ Новый пакет ⭐ { $stars } → { $tokens } токенов + { $bonus }%.

# referrals
adm-refs-title = 👥 Реферальная программа
adm-refs-rule = Программа: { $state } · кешбэк { $percent }% с { $mode }
adm-refs-mode-every = каждого пополнения
adm-refs-mode-first = только первого пополнения
adm-refs-paid = Выплачено кешбэка: { $week } токенов за 7 дней · { $month } за 30 дней
adm-refs-top = Лучшие рефереры (30 дней):
adm-refs-top-row = { $n }. { $user } · друзей: { $friends } · { $week } / { $month } токенов (7 / 30 дней)
adm-refs-top-none = За последние 30 дней кешбэк не выплачивался.
btn-adm-refs-pct = ✏️ Процент
btn-adm-refs-off = ⛔ Выключить
btn-adm-refs-on = ✅ Включить
btn-adm-refs-mode-every = { $mark }Каждое пополнение
btn-adm-refs-mode-first = { $mark }Только первое
adm-ask-refs-pct = ✍️ Процент кешбэка (0–100)? Сейчас: { $current }.
adm-done-refs-pct = ✅ Кешбэк { $before }% → { $after }%.
adm-done-refs-mode = ✅ Кешбэк начисляется с { $mode }.
adm-done-refs-on = ✅ Реферальная программа включена.
adm-done-refs-off = ✅ Реферальная программа выключена: ссылки никого не привязывают, пополнения не дают кешбэк.

# templates
adm-tpls-title = 🧩 Шаблоны (👁 показан · 🙈 скрыт · 📌 закреплён в трендах; тренды считаются за { $days } дн.)
btn-adm-tpl-row = { $state }{ $pin } { $title } · { $uses }
btn-adm-tpl-add = ➕ Новый шаблон
btn-adm-tpl-cats = 🗂 Категории
btn-adm-trending-days = 🔥 Окно трендов: { $days } дн.
adm-tpl-head = 🧩 #{ $id } { $title } · { $state } { $pin } · использован { $uses } раз
adm-tpl-meta = Категория: { $category } · модель: { $model } · настройки: { $settings }
adm-tpl-shown = показан
adm-tpl-hidden = скрыт
adm-tpl-pinned = · 📌 закреплён
btn-adm-tpl-hide = 🙈 Скрыть
btn-adm-tpl-show = 👁 Показать
btn-adm-tpl-pin = 📌 Закрепить
btn-adm-tpl-unpin = 📍 Открепить
btn-adm-tpl-titles = ✏️ Названия
btn-adm-tpl-prompts = ✏️ Промпты
btn-adm-tpl-model = 🤖 Модель
btn-adm-tpl-settings = ⚙️ Настройки
btn-adm-tpl-photo = 🖼 Превью
btn-adm-tpl-delete = 🗑 Удалить
adm-done-tpl-toggle = ✅ { $title }: { $on ->
        [1] показан пользователям
       *[0] скрыт от пользователей
    }.
adm-done-tpl-pin = ✅ { $title }: { $on ->
        [1] закреплён в трендах
       *[0] откреплён
    }.
adm-tpl-pick-cat = 🧩 Новый шаблон: в какую категорию?
btn-adm-tpl-cat-row = { $name } · { $count }
adm-ask-tpl-title = ✍️ Название на { $language } (до 64 символов)?
adm-ask-tpl-prompt = ✍️ Промпт на { $language }?
adm-ask-tpl-model = ✍️ Id модели по умолчанию ({ $models }) или - для модели пользователя?
adm-ask-tpl-settings = ✍️ Настройки по умолчанию, например aspect_ratio=16:9 resolution=2K, или - без настроек?
adm-effect-tpl-add = добавить шаблон «{ $title }» в { $category }: модель { $model }, настройки { $settings }. Пользователи увидят его сразу.
adm-done-tpl-add = ✅ Шаблон #{ $id } «{ $title }» создан. Откройте его, чтобы добавить превью.
adm-done-tpl-edit = ✅ { $title }: сохранено.
adm-ask-tpl-photo = 🖼 Отправьте превью как фото.
adm-done-tpl-photo = ✅ Превью сохранено.
adm-effect-tpl-delete = удалить шаблон «{ $title }» и { $uses } его использований. Причина: { $reason }. Скрытие их сохранило бы.
adm-done-tpl-delete = ✅ Шаблон «{ $title }» удалён.
adm-cats-title = 🗂 Категории шаблонов (шаблонов в каждой)
btn-adm-cat-add = ➕ Новая категория
adm-ask-cat-slug = ✍️ Id категории (a-z, 0-9, - и _; не меняется)?
adm-ask-cat-name = ✍️ Название категории на { $language }?
adm-done-cat = ✅ Категория { $slug }: «{ $name }».

# system
adm-sys-title = 🛠 Система
adm-sys-queue = Очередь: { $queued } ждут, { $running } выполняются · за час: { $submitted } отправлено, { $ok } успешно, { $failed } с ошибкой
adm-sys-worker = Воркер { $id } { $state } был { $ago } с назад
adm-sys-no-workers = ⚠️ Нет сигнала от воркеров.
adm-sys-providers = Провайдеры:
adm-sys-provider = • { $name }: ключ { $keystate } · последний успех { $ok } · последняя ошибка { $error } · задержка { $latency } с
adm-key-configured = задан
adm-key-missing = ⚠️ отсутствует
adm-key-not-needed = не нужен
adm-key-unknown = неизвестно
adm-sys-models = Модели:
adm-sys-model = • { $state } { $name } ({ $provider }): предохранитель { $breaker }, ошибок { $failures } · { $running }/{ $cap } выполняется · { $queued } в очереди
adm-breaker-closed = закрыт
adm-breaker-open = ⚠️ открыт
adm-breaker-half_open = полуоткрыт (проба)
adm-breaker-until = до { $until } UTC
adm-sys-features = Функции: шаблоны { $templates } · рефералы { $referrals } · пополнения { $topups }
adm-sys-maintenance = Режим обслуживания: { $state }
adm-sys-maintenance-msg = Пользователи видят: { $text }
adm-sys-limits = Лимиты на пользователя: { $per_min } действий/мин, всплеск { $burst }, { $parallel } параллельных задач · на модель: { $cap } одновременно
btn-adm-sys-model = { $state } { $name }
btn-adm-feature-templates = { $state } Шаблоны
btn-adm-feature-referrals = { $state } Рефералы
btn-adm-feature-topups = { $state } Пополнения
adm-feature-templates = Шаблоны
adm-feature-referrals = Рефералы
adm-feature-topups = Пополнения
adm-done-feature = ✅ { $feature }: { $state }.
btn-adm-maint-on = 🛠 Включить обслуживание
btn-adm-maint-off = ✅ Выключить обслуживание
adm-ask-maint-msg = ✍️ Сообщение для пользователей во время обслуживания (или - для стандартного)?
adm-effect-maint-on = ВКЛЮЧИТЬ режим обслуживания. Пользователи увидят: «{ $text }». Админы и поддержка проходят.
adm-done-maint-on = ✅ Режим обслуживания включён.
adm-done-maint-off = ✅ Режим обслуживания выключен.
btn-adm-user_actions_per_min = ⏱ Действий/мин
btn-adm-user_burst = 💥 Всплеск
btn-adm-user_parallel_jobs = 🧵 Параллельно
btn-adm-model_concurrency = 🔀 На модель
btn-adm-refresh = 🔄 Обновить
adm-setting-limits-user_actions_per_min = сообщений и нажатий в минуту на пользователя
adm-setting-limits-user_burst = всплеск на пользователя
adm-setting-limits-user_parallel_jobs = параллельных генераций на пользователя
adm-setting-limits-model_concurrency = вызовов провайдера на модель одновременно
adm-setting-trending-days = окно трендов (дней)
adm-ask-setting = ✍️ Новое значение «{ $what }» ({ $min }–{ $max })? Сейчас: { $current }.
adm-done-setting = ✅ { $what }: { $before } → { $after }. Все процессы подхватят за секунды.
btn-adm-model-conc = ⚙️ Параллельность
adm-model-field-conc = параллельность (0 = общий лимит)
