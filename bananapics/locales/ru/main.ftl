# BananaPicsBot — русский.
# Ключи и $placeholders совпадают с uz/main.ftl и en/main.ftl (проверяет tests/test_i18n.py).
# btn-* — подписи кнопок (≤ 64 символов), toast-* — ответы на нажатия (≤ 200), cmd-* — описания команд.

language-name = Русский

## Команды (SetBotCommands)

cmd-start = Главное меню
cmd-generate = Создать изображение
cmd-balance = Баланс и пополнение
cmd-history = Мои изображения
cmd-templates = Шаблоны промптов
cmd-invite = Пригласить друзей и получать токены
cmd-settings = Язык и настройки по умолчанию
cmd-help = Как это работает и цены
cmd-terms = Условия использования
cmd-privacy = Политика конфиденциальности
cmd-support = Написать в поддержку
cmd-paysupport = Помощь с оплатой и возвратом
cmd-admin = Панель администратора

## Общее

btn-menu = 🏠 Меню
btn-back = ◀ Назад
btn-cancel = ✖ Отмена
btn-prev = ◀
btn-next = ▶
btn-page = { $page }/{ $pages }
btn-confirm = ✅ Подтвердить
toast-outdated = Эта кнопка устарела.
error-stale = Эта кнопка устарела: откройте заново из меню.
toast-saved = ✅ Сохранено
toast-cancelled = Отменено.
toast-slow-down = ⏳ Слишком быстро. Подождите секунду.
toast-wait = ⏳ Выполняется…
rate-limited = ⏳ Слишком много запросов. Подождите { $seconds } с и попробуйте снова.
banned = ⛔ Ваш аккаунт заблокирован. Если это ошибка, напишите в /support.
error-generic = 😕 Что-то пошло не так. Попробуйте ещё раз через минуту.
feature-off = Эта функция сейчас отключена. Попробуйте позже.
unknown-input = Не понял. Воспользуйтесь кнопками ниже.

## Главное меню

menu-title = 🍌 BananaPics — баланс: { $balance ->
    [one] { $balance } токен
    [few] { $balance } токена
   *[many] { $balance } токенов
}
menu-welcome = 👋 Добро пожаловать в BananaPics! Опишите идею, выберите модель и получите изображение, созданное ИИ.
menu-welcome-referred = 👋 Вас пригласил(а) { $name }. Добро пожаловать в BananaPics!
btn-generate = 🎨 Создать
btn-templates = 🧩 Шаблоны
btn-trending = 🔥 Популярное
btn-history = 🖼 История
btn-balance = 💰 Баланс
btn-invite = 👥 Пригласить друзей
btn-settings = ⚙️ Настройки
btn-help = ❓ Помощь

## Мастер генерации — 1. модель

gen-model-title = 🎨 Выберите модель:
btn-model = { $name } · от { $price }
btn-model-default = { $name } · от { $price } ✓
gen-no-models = 😔 Сейчас нет доступных моделей. Попробуйте позже.
error-model-disabled = { $model } сейчас отключена. Выберите другую модель.
error-model-unknown = Эта модель больше недоступна. Выберите другую.

## 2. промпт

gen-prompt-ask =
    ✍️ Отправьте описание изображения.
    Модель: { $model } · до { $limit ->
        [one] { $limit } символа
       *[other] { $limit } символов
    }.
gen-prompt-not-text = Отправьте описание текстовым сообщением.
btn-pick-template = 🧩 Выбрать шаблон
error-prompt-empty = Описание пустое. Напишите несколько слов об изображении.
error-prompt-too-long = Описание слишком длинное: { $length ->
    [one] { $length } символ
    [few] { $length } символа
   *[many] { $length } символов
}, лимит — { $limit }. Сократите его и отправьте снова.

## 3. референсы

gen-refs-ask = 🖼 Отправьте до { $max } фото, чтобы подсказать модели, или пропустите этот шаг.
gen-refs-count = Добавлено фото: { $count } из { $max }.
gen-refs-limit = Это предел для этой модели: { $max } фото. Лишние фото не добавлены.
gen-refs-cleared = Фото удалены.
btn-skip = Пропустить ▶
btn-refs-done = ✅ Готово ({ $count })
btn-refs-clear = 🗑 Очистить
error-not-an-image = Это не изображение. Отправьте фото или файл JPEG, PNG или WebP.
error-image-too-large = Изображение слишком большое (лимит { $max_mb } МБ). Отправьте поменьше.
error-image-too-many-pixels = В этом изображении слишком много пикселей: PNG или WEBP — не больше { $side }×{ $side }. Отправьте его как фото, как файл JPEG или уменьшите.
error-image-canvas-too-large = В этом изображении слишком много пикселей (не больше { $limit } мегапикселей). Отправьте поменьше.

## 4. настройки

gen-settings-title = ⚙️ Настройки { $model }. Нажмите на строку, чтобы изменить.
gen-setting-choose = { $label }: выберите значение.
setting-aspect-ratio = Соотношение сторон
setting-resolution = Разрешение
setting-quality = Качество
setting-count = Количество
setting-format = Формат
quality-low = Низкое
quality-medium = Среднее
quality-high = Высокое
quality-auto = Авто
btn-setting = { $label }: { $value }
btn-option = { $value }
btn-option-selected = ✓ { $value }
btn-count = ×{ $count }
error-setting-unsupported = Эта модель не поддерживает такой вариант. Выберите другой.

## 5. подтверждение

confirm-title = Проверьте запрос:
confirm-model = Модель: { $model } · { $options }
confirm-prompt = Промпт: «{ $prompt }»
confirm-template = Шаблон: { $title }
confirm-refs = Референсы: { $count }
confirm-price = Цена: { $count } × { $per_image } = { $total ->
    [one] { $total } токен
    [few] { $total } токена
   *[many] { $total } токенов
} · баланс после: { $after }
confirm-price-single = Цена: { $total ->
    [one] { $total } токен
    [few] { $total } токена
   *[many] { $total } токенов
} · баланс после: { $after }
confirm-breakdown = За одно изображение: { $lines }
price-line-base = база { $amount }
price-line-resolution = { $value } +{ $amount }
price-line-quality = качество { $value } +{ $amount }
price-line-refs = { $count ->
    [one] { $count } референс
    [few] { $count } референса
   *[many] { $count } референсов
} +{ $amount }
confirm-short = ⚠️ Не хватает токенов: цена { $price }, на балансе { $balance }. Пополните ещё хотя бы на { $shortfall }.
btn-generate-price = ✅ Создать — { $price }
btn-topup-shortfall = 💰 Пополнить (+{ $shortfall })
btn-edit = ✏️ Изменить
gen-edit-title = Что вы хотите изменить?
btn-edit-model = 🎨 Модель
btn-edit-prompt = ✏️ Изменить промпт
btn-edit-refs = 🖼 Референсы
btn-edit-settings = ⚙️ Настройки
gen-cancelled = Отменено. Токены не списаны.
error-price-changed = Цена изменилась. Проверьте новую цену и подтвердите ещё раз.
error-draft-expired = Этот запрос устарел. Начните новый.
error-insufficient = Не хватает токенов: доступно { $available }, нужно { $needed }.
error-too-many-jobs = У вас уже выполняется { $limit ->
    [one] { $limit } генерация
    [few] { $limit } генерации
   *[many] { $limit } генераций
}. Дождитесь завершения одной из них.

## 6. выполнение

gen-started = ✅ Запрос принят. { $price ->
    [one] { $price } токен зарезервирован
    [few] { $price } токена зарезервированы
   *[many] { $price } токенов зарезервированы
} до завершения.
progress-queued = ⏳ Генерация… место в очереди: { $position }
progress-running = ⏳ Генерация… Обычно это занимает меньше минуты.
progress-retrying = ⏳ Модель занята, пробуем ещё раз…

## 7. результат

result-caption = 🎨 { $model } · «{ $prompt }»
result-files = 📎 Файлы в полном качестве
result-done = ✅ Готово: { $count ->
    [one] { $count } изображение
    [few] { $count } изображения
   *[many] { $count } изображений
} за { $cost } ток. Файлы в полном качестве — выше.
btn-again = 🔁 Ещё раз
btn-new = 🆕 Новое

## 8. ошибка

fail-title = ❌ Не удалось создать изображение.
fail-moderation = Модель отклонила этот промпт. Переформулируйте его и попробуйте снова.
fail-bad-request = Модель не смогла обработать запрос. Попробуйте другие настройки или другую модель.
fail-auth = Эта модель временно недоступна. Выберите другую модель.
fail-quota = Эта модель временно недоступна. Выберите другую модель.
fail-rate-limited = Модель занята. Попробуйте через минуту.
fail-provider-down = Сервис модели не отвечает. Попробуйте позже или выберите другую модель.
fail-timeout = Модель слишком долго не отвечала. Попробуйте ещё раз.
fail-no-image = Модель не вернула изображение — вероятно, из-за промпта. Переформулируйте его и попробуйте снова.
fail-reference = Не удалось прочитать референс. Отправьте его ещё раз.
fail-unknown = Что-то пошло не так на нашей стороне. Попробуйте ещё раз.
fail-refund = ↩️ { $tokens ->
    [one] { $tokens } токен возвращён
    [few] { $tokens } токена возвращены
   *[many] { $tokens } токенов возвращены
} на ваш баланс.
result-partial = ⚠️ Получено { $got } из { $asked ->
    [one] { $asked } изображения
   *[other] { $asked } изображений
}. За остальные на баланс возвращено: { $refund ->
    [one] { $refund } токен
    [few] { $refund } токена
   *[many] { $refund } токенов
}.
btn-try-again = 🔁 Попробовать снова
btn-other-model = 🔀 Другая модель

## Баланс и пополнение

balance-title = 💰 Баланс: { $balance ->
    [one] { $balance } токен
    [few] { $balance } токена
   *[many] { $balance } токенов
}
balance-title-held = 💰 Баланс: { $balance ->
    [one] { $balance } токен
    [few] { $balance } токена
   *[many] { $balance } токенов
} ({ $held } зарезервировано под текущую генерацию)
btn-topup = ⭐ Пополнить
btn-payments = 🧾 Платежи
topup-title = ⭐ Выберите пакет. Оплата — Telegram Stars.
topup-terms = Оплачивая, вы соглашаетесь с условиями: /terms
topup-none = Сейчас нет доступных пакетов. Попробуйте позже.
btn-package = ⭐ { $stars } → { $tokens ->
    [one] { $tokens } токен
    [few] { $tokens } токена
   *[many] { $tokens } токенов
}
btn-package-bonus = ⭐ { $stars } → { $tokens ->
    [one] { $tokens } токен
    [few] { $tokens } токена
   *[many] { $tokens } токенов
} (+{ $bonus }%)
invoice-title = { $tokens ->
    [one] { $tokens } токен
    [few] { $tokens } токена
   *[many] { $tokens } токенов
} BananaPics
invoice-description = { $tokens ->
    [one] { $tokens } токен
    [few] { $tokens } токена
   *[many] { $tokens } токенов
} для генерации изображений ИИ в BananaPics. Поступят на баланс сразу после оплаты. Условия: /terms
invoice-label = { $tokens ->
    [one] { $tokens } токен
    [few] { $tokens } токена
   *[many] { $tokens } токенов
}
precheckout-expired = Срок действия счёта истёк. Откройте «Пополнить» и выберите пакет заново.
precheckout-paid = Этот счёт уже оплачен.
precheckout-mismatch = Счёт не соответствует пакету. Выберите пакет заново.
precheckout-invalid = Этот счёт больше не действителен. Выберите пакет заново.
precheckout-banned = Ваш аккаунт заблокирован, платежи не принимаются.
topup-thanks = ✅ +{ $tokens ->
    [one] { $tokens } токен
    [few] { $tokens } токена
   *[many] { $tokens } токенов
}. Баланс: { $balance }
topup-thanks-bonus = 🎁 Из них бонус: { $bonus }.
payment-refunded = ↩️ Платёж возвращён: ⭐ { $stars }. С баланса списано { $tokens } ток. Баланс: { $balance }
payments-title = 🧾 Ваши платежи
payments-empty = Платежей пока нет.
payments-item = { $date } · ⭐ { $stars } → { $tokens } ток. · { $status }
payment-status-paid = оплачен
payment-status-refunded = возвращён
payments-refund-howto = Нужна помощь или возврат? Напишите в /paysupport дату и сумму платежа.

## Пригласить друзей

ref-title = 👥 Пригласить друзей
ref-link = Ваша личная ссылка:
ref-stats = Друзей пришло: { $friends } · получено токенов: { $earned }
ref-rule-every = 🎁 Вы получаете { $percent }% с каждого пополнения ваших друзей.
ref-rule-first = 🎁 Вы получаете { $percent }% с первого пополнения друга.
ref-rule-off = Реферальные начисления сейчас приостановлены.
btn-share = 📤 Поделиться
ref-share-text = 🍌 Создавайте изображения с ИИ в BananaPics
ref-cashback = 🎁 Ваш друг пополнил баланс: вам +{ $tokens ->
    [one] { $tokens } токен
    [few] { $tokens } токена
   *[many] { $tokens } токенов
}.
ref-friend-joined = 👋 { $name } присоединился(-ась) по вашей ссылке.
error-unknown-code = Эта пригласительная ссылка недействительна.
error-self = Нельзя использовать собственную пригласительную ссылку.
error-already-bound = Вы уже присоединились по другому приглашению.
error-too-late = Пригласительные ссылки работают только до первого пополнения.
error-cycle = Эту ссылку нельзя использовать: этот друг пришёл по вашему приглашению.
error-referral-rejected = Эту пригласительную ссылку нельзя использовать.

## История

history-title = 🖼 История · страница { $page }/{ $pages }
history-empty = Изображений пока нет. Нажмите 🎨 Создать, чтобы сделать первое.
history-item = { $date } · { $model } · «{ $prompt }» · { $status } · { $cost }
btn-history-item = { $n }. { $date } · { $model }
job-status-queued = в очереди
job-status-running = генерируется
job-status-succeeded = готово
job-status-partial = частично
job-status-failed = ошибка
history-detail-date = 🖼 { $date }
history-detail-status = Статус: { $status } · стоимость: { $cost } ток.
history-files-gone = Файлы этой генерации больше не хранятся.
btn-send-again = 📤 Отправить снова
btn-regenerate = 🔁 Сгенерировать заново
btn-use-prompt = ✏️ Использовать промпт

## Шаблоны и популярное

templates-title = 🧩 Шаблоны. Выберите категорию:
templates-category = 🧩 { $category } · { $page }/{ $pages }
templates-empty = Здесь пока нет шаблонов.
template-card = 🧩 { $title }
template-uses = Использован { $count ->
    [one] { $count } раз
    [few] { $count } раза
   *[many] { $count } раз
}
template-applied = ✅ Шаблон «{ $title }» применён.
template-unavailable = Этот шаблон больше недоступен.
btn-use = ✅ Использовать
trending-title = 🔥 Популярное: чаще всего за { $days ->
    [one] последний { $days } день
    [few] последние { $days } дня
   *[many] последние { $days } дней
}
trending-empty = Пока ничего популярного.
btn-trending-item = { $n }. { $title }
btn-trending-pinned = 📌 { $title }

## Настройки

settings-title =
    ⚙️ Настройки
    Язык: { $language }
    Модель по умолчанию: { $model }
    Соотношение сторон по умолчанию: { $ratio }
btn-language = 🌐 Язык
btn-default-model = 🎨 Модель по умолчанию
btn-default-ratio = 📐 Соотношение сторон
settings-language-title = 🌐 Выберите язык:
settings-language-set = ✅ Язык: русский
settings-model-title = 🎨 Выберите модель по умолчанию:
settings-model-set = ✅ Модель по умолчанию: { $model }
settings-model-auto = Рекомендуемая
settings-ratio-title = 📐 Выберите соотношение сторон по умолчанию:
settings-ratio-set = ✅ Соотношение сторон по умолчанию: { $ratio }

## Помощь и правила

help-text =
    ❓ Как это работает
    1. Нажмите 🎨 Создать и выберите модель.
    2. Опишите изображение или выберите шаблон.
    3. При желании добавьте фото-референсы и измените настройки.
    4. Проверьте цену и подтвердите. Токены резервируются и списываются только за доставленные изображения; за неудачную генерацию они возвращаются автоматически.

    Токены покупаются за Telegram Stars: 💰 Баланс → ⭐ Пополнить.
help-prices-title = 💲 Цены за изображение:
help-price-line = • { $model } — от { $price ->
    [one] { $price } токена
   *[other] { $price } токенов
}
help-commands =
    Команды: /start меню · /generate новое изображение · /balance баланс · /history мои изображения · /settings язык, модель и соотношение сторон по умолчанию
    Правила и помощь: /terms · /privacy · /paysupport · /support
btn-terms = 📄 Условия
btn-privacy = 🔒 Конфиденциальность
btn-paysupport = 💳 Помощь с оплатой
btn-support = 💬 Поддержка
terms-text =
    📄 Условия использования

    1. BananaPics создаёт изображения с помощью моделей ИИ по вашим описаниям и фото.
    2. Генерации оплачиваются токенами. Токены покупаются за Telegram Stars; цена каждого запроса показывается до подтверждения.
    3. Токены списываются только за доставленные изображения. Если генерация не удалась, токены автоматически возвращаются на баланс.
    4. Не запрашивайте незаконный контент, контент, нарушающий права других людей, или сексуальный контент с участием несовершеннолетних. Модели могут отклонять запросы; аккаунты, злоупотребляющие сервисом, могут быть заблокированы.
    5. Отправляйте только те фото, которые вы вправе использовать.
    6. Результаты ИИ могут быть неточными или неожиданными; вы отвечаете за их использование.
    7. По вопросам оплаты и возвратов используйте /paysupport. При возврате платежа его токены списываются с баланса; уже потраченные токены становятся долгом, который погасит следующее пополнение, а до этого генерация приостановлена. Поддержка Telegram не может помочь с покупками в этом боте.
    8. Цены и эти условия могут меняться; всегда действует цена, показанная перед подтверждением.
privacy-text =
    🔒 Политика конфиденциальности

    Мы храним: ваш Telegram ID, имя, username и язык; ваши описания, фото-референсы и результаты (чтобы доставить их и показать историю); ваши платежи и операции с токенами.
    Описания и фото передаются выбранному вами поставщику модели ИИ — только для создания изображений.
    Мы не продаём ваши данные и не передаём их для рекламы. Изображения удаляются из хранилища по истечении срока хранения.
    Чтобы удалить свои данные, напишите в /support.
support-text =
    💬 Поддержка
    Напишите свой вопрос: { $contact }. Опишите, что произошло и когда.
    По оплате и возвратам — /paysupport. Поддержка Telegram не может помочь с покупками в этом боте.
paysupport-text =
    💳 Помощь с оплатой
    Проблема с платежом или нужен возврат? Напишите { $contact }, указав дату и сумму платежа.
    За неудачную генерацию токены возвращаются автоматически. Поддержка Telegram не может помочь с покупками в этом боте.
    Если кнопка оплаты не срабатывает в Telegram Desktop, оплатите из приложения Telegram на телефоне: Desktop иногда отклоняет небольшие счета ботов в звёздах.

## Ошибки сервисов (по BananaError.code)

error-not-found = Не найдено. Возможно, это было удалено.
error-invalid = Это значение не подходит. Проверьте его и попробуйте снова.
error-forbidden = У вас нет доступа к этому.
error-conflict = Это уже было сделано с другими значениями.

## Панель администратора

admin-title = 🛠 Панель администратора
admin-forbidden = Ваша роль этого не позволяет.
admin-empty = Здесь пока пусто.
btn-admin-users = 👤 Пользователи
btn-admin-pricing = 💲 Цены
btn-admin-packages = 📦 Пакеты
btn-admin-referrals = 👥 Рефералы
btn-admin-templates = 🧩 Шаблоны
btn-admin-transactions = 🧾 Транзакции
btn-admin-system = 🛠 Система
btn-admin-log = 📜 Журнал действий
btn-admin-home = 🛠 Админ-панель
admin-ask-reason = ✍️ Напишите причину (она сохранится в журнале).
admin-ask-amount = ✍️ Отправьте количество токенов.
admin-ask-value = ✍️ Отправьте новое значение для «{ $field }» (сейчас: { $current }).
admin-ask-search = ✍️ Отправьте @username, Telegram ID или имя для поиска.
admin-invalid-number = Это не число. Отправьте целое число.
admin-confirm = ⚠️ Подтвердите: { $action }
admin-cancelled = Отменено. Ничего не изменилось.
admin-users-title = 👤 Пользователи: { $count }
admin-users-none = Никого не найдено.
admin-user-card =
    👤 { $name } · @{ $username } · ID { NUMBER($tg_id, useGrouping: 0) }
    Роль: { $role } · { $status }
    Баланс: { $balance } (в резерве { $held })
    С нами с: { $date } · генераций: { $jobs } · платежей: { $payments }
admin-user-active = активен
admin-user-banned = ⛔ заблокирован
role-user = Пользователь
role-support = Поддержка
role-admin = Администратор
btn-admin-ban = ⛔ Заблокировать
btn-admin-unban = ✅ Разблокировать
btn-admin-grant = ➕ Начислить токены
btn-admin-deduct = ➖ Списать токены
btn-admin-role = 🎭 Роль
btn-admin-user-jobs = 🖼 Генерации
btn-admin-user-payments = 🧾 Платежи
admin-done-adjust = ✅ { $user }: { $delta } ток., баланс { $balance }, причина: { $reason }
admin-done-ban = ✅ { $user } заблокирован(а). Причина: { $reason }
admin-done-unban = ✅ { $user } разблокирован(а). Причина: { $reason }
admin-done-role = ✅ { $user }: роль { $role }
admin-pricing-title = 💲 Модели и цены
btn-admin-model = { $status } { $name } · { $price }
admin-model-card =
    🎨 { $name } ({ $model })
    Статус: { $status }
    Базовая цена: { $base } ток. за изображение
    Надбавки: { $extras }
    До { $max_refs } референсов, до { $max_count } изображений
admin-model-on = ✅ включена
admin-model-off = ⛔ выключена
admin-model-default = ⭐ по умолчанию
btn-admin-model-enable = ✅ Включить
btn-admin-model-disable = ⛔ Выключить
btn-admin-model-default = ⭐ Сделать основной
btn-admin-price-base = 💲 Базовая цена
btn-admin-price-resolution = 🖥 Цены за разрешение
btn-admin-price-quality = ✨ Цены за качество
btn-admin-price-refs = 🖼 Цена за референс
btn-admin-limit-refs = 🖼 Макс. референсов
btn-admin-limit-count = 🔢 Макс. изображений
admin-packages-title = 📦 Пакеты пополнения
btn-admin-package = { $status } ⭐ { $stars } → { $tokens } (+{ $bonus }%)
btn-admin-package-on = ✅ Включить
btn-admin-package-off = ⛔ Выключить
btn-admin-package-add = ➕ Новый пакет
btn-admin-package-stars = ⭐ Звёзды
btn-admin-package-tokens = 🪙 Токены
btn-admin-package-bonus = 🎁 Бонус %
btn-admin-package-sort = ↕️ Порядок
admin-package-ask = ✍️ Отправьте: звёзды токены бонус%, например «250 500 10».
admin-referrals-title =
    👥 Реферальное правило
    Кэшбэк: { $percent }% · начисляется: { $mode }
    Приглашено: { $users } · выплачено: { $paid } ток.
referral-mode-every = с каждого пополнения
referral-mode-first = только с первого пополнения
btn-admin-ref-percent = ✏️ Изменить %
btn-admin-ref-every = 🔁 Каждое пополнение
btn-admin-ref-first = 1️⃣ Только первое
admin-templates-title = 🧩 Шаблоны: { $count }
btn-admin-template = { $status } { $title }
btn-admin-template-add = ➕ Новый шаблон
btn-admin-template-on = ✅ Показать
btn-admin-template-off = ⛔ Скрыть
btn-admin-template-pin = 📌 Закрепить
btn-admin-template-unpin = 📍 Открепить
btn-admin-template-delete = 🗑 Удалить
admin-transactions-title = 🧾 Платежи · страница { $page }/{ $pages }
admin-tx-line = { $date } · { $user } · ⭐ { $stars } → { $tokens } · { $status }
btn-admin-refund = ↩️ Вернуть
admin-refund-confirm = Вернуть ⭐ { $stars } пользователю { $user }? С его баланса будет списано { $tokens } ток.
admin-refund-done = ✅ Возвращено ⭐ { $stars } пользователю { $user }. Причина: { $reason }
admin-refund-failed = ❌ Telegram отклонил возврат: { $error }
admin-system-title = 🛠 Система
admin-queue = Очередь: ждут { $queued }, выполняются { $running }
admin-provider-ok = ✅ { $provider } · { $latency } мс
admin-provider-fail = ❌ { $provider }: { $error }
admin-provider-nokey = ⚪ { $provider }: нет ключа
admin-setting-line = { $key } = { $value }
btn-admin-check = 🔌 Проверить провайдеров
btn-admin-setting = ✏️ { $key }
admin-log-title = 📜 Журнал действий · страница { $page }/{ $pages }
admin-log-line = { $date } · { $actor } · { $action } · { $target }
