# Texts the admin service layer needs users to see (maintenance mode, switched-off features and models).
maintenance-default = 🛠 Бот на техническом обслуживании. Загляните чуть позже.
error-feature-off = Эта функция сейчас отключена.
fail-model-disabled = Эту модель отключили до начала вашего запроса. Выберите другую модель.

## Admin panel: the kit (typed values, confirmations, pages)

adm-bad-number = ⚠️ Это не число. Отправьте только цифры, например 50.
adm-bad-negative = ⚠️ Число не может быть отрицательным. Отправьте { $min } или больше.
adm-bad-too-small = ⚠️ Слишком мало. Отправьте { $min } или больше.
adm-bad-zero = ⚠️ Ноль ничего не меняет. Отправьте число больше 0.
adm-bad-too-big = ⚠️ Слишком много. Максимум — { $max }.
adm-bad-too-long = ⚠️ Слишком длинно. Не больше { $limit } символов.
adm-bad-reason = ⚠️ Напишите короткую причину словами (она попадёт в журнал).
adm-bad-reason-long = ⚠️ Причина слишком длинная. Не больше { $limit } символов.
adm-bad-query = ⚠️ Отправьте текст для поиска.
adm-failed = ⚠️ Не выполнено: { $error }
adm-press-yes-no = Нажмите ✅ Да или ✖ Нет ниже.
btn-adm-yes = ✅ Да
btn-adm-no = ✖ Нет
adm-page-of = { $first }–{ $last } из { $total }
adm-section-soon = Этот раздел ещё не готов.

## Admin panel: home

adm-glance = Сегодня: новых пользователей { $users } · генераций { $ok } успешно / { $failed } с ошибкой
    ⭐ { $stars } получено · продано токенов: { $tokens }
    Очередь: ждут { $queued }, выполняются { $running }
adm-glance-providers = Провайдеры работают: { $up } · не работают: { $down }

## Admin panel: users

adm-users-newest = 👤 Новые пользователи
adm-users-found = 🔎 Поиск: { $query }
admin-ask-search-all = ✍️ Отправьте Telegram id, @username, имя, id платежа или реферальный код.
btn-adm-user-row = { $status } { $name } · { $balance }
btn-adm-search = 🔎 Поиск
btn-adm-all-users = 👥 Все пользователи
adm-card =
    👤 { $name } · @{ $username } · id { NUMBER($tg_id, useGrouping: 0) }
    Роль: { $role } · { $status }
    Баланс: { $balance } · в резерве { $held } · долг { $debt }
    Пригласил: { $referrer } · друзей: { $friends }
    Потрачено: { $spent } токенов · генераций: { $jobs }
    Платежей: { $payments } (⭐ { $stars }) · с { $date }
adm-card-ban-reason = Причина блокировки: { $reason }
adm-effect-ban = заблокировать { $user }. Причина: { $reason }. Пользователь получит одно сообщение.
adm-effect-unban = разблокировать { $user }. Причина: { $reason }. Пользователь получит одно сообщение.
adm-ask-adjust = ✍️ Сколько токенов? У { $user } сейчас { $balance }.
adm-effect-adjust = { $user }: { $delta } токенов, баланс { $before } → { $after }. Причина: { $reason }. Пользователь получит сообщение.
adm-effect-role = { $user }: роль { $old } → { $new }.
adm-role-pick = 🎭 { $user } — { $role }. Новая роль:
btn-adm-role-user = 👤 Пользователь
btn-adm-role-support = 🛟 Поддержка
btn-adm-role-admin = 🛠 Администратор
adm-user-jobs = 🖼 Генерации { $user }
adm-user-payments = 🧾 Платежи { $user }
btn-adm-job-row = { $status } { $date } · { $model } · { $cost }
btn-adm-pay-row = { $status } { $date } · ⭐ { $stars } → { $tokens }
adm-job =
    🖼 { $status } · { $model } · { $cost } токенов
    Пользователь: { $user } · { $date }
    Попыток: { $attempts } из { $max } · последняя ошибка: { $error }
    Запрос: { $prompt }
btn-adm-job-retry = 🔁 Повторить сейчас
btn-adm-job-refund = ↩️ Вернуть токены
adm-done-retry = ✅ Снова в очереди.
adm-effect-job-refund = остановить эту генерацию { $user } и вернуть { $tokens } токенов. Причина: { $reason }.
adm-done-job-refund = ✅ Остановлено; возвращено токенов: { $tokens }. Пользователь получит сообщение.
adm-notice-banned = ⛔ Ваш доступ к боту заблокирован. Причина: { $reason }
adm-notice-unbanned = ✅ Ваш доступ к боту восстановлен. С возвращением!
adm-notice-adjusted = 🪙 Ваш баланс исправлен: { $delta } токенов ({ $reason }). Баланс: { $balance }.

## Admin panel: transactions

adm-payments-title = 🧾 Платежи · { $period }
adm-period-all = за всё время
adm-period-day = за 24 часа
adm-period-week = за 7 дней
btn-adm-period-all = Все
btn-adm-period-day = 24 ч
btn-adm-period-week = 7 дней
adm-filter-user = Пользователь: { $user }
btn-adm-filter-user = 👤 По пользователю
btn-adm-transfers = 📒 Проводки
btn-adm-jobs-queued = ⏳ В очереди
btn-adm-jobs-running = ⚙️ Выполняются
btn-adm-jobs-failed = ❌ С ошибкой
adm-ask-tg-id = ✍️ Отправьте Telegram id пользователя (число).
adm-payment =
    ⭐ { $stars } → { $tokens } токенов + { $bonus } бонус · { $status }
    Плательщик: { $user } · { $date }
    Платёж: { $charge }
adm-payment-paid = оплачен
adm-payment-refunded = ↩️ возвращён
adm-payment-refund-info = Вернул { $actor }: { $reason } · остался долг: { $debt }
adm-transfers-title = Проводки:
btn-adm-refund = ↩️ Вернуть Stars
adm-effect-refund = вернуть ⭐ { $stars } пользователю { $user }: −{ $tokens } токенов. Причина: { $reason }.
adm-effect-refund-cashback = −{ $tokens } кэшбэка у { $user }.
adm-effect-refund-debt = Часть уже потрачена: { $debt } токенов станут долгом.
adm-done-refund = ✅ Возвращено ⭐ { $stars } пользователю { $user }: −{ $tokens } токенов, −{ $cashback } кэшбэка, долг { $debt }.
adm-transfers-list = 📒 Проводки · { $period }
adm-jobs-queued = ⏳ Генерации в очереди
adm-jobs-running = ⚙️ Выполняемые генерации
adm-jobs-failed = ❌ Генерации с ошибкой

## Admin panel: admin log

adm-log-title = 📜 Журнал действий
adm-log-filter = Фильтр: { $filter }
adm-log-reason = причина: { $reason }
btn-adm-log-filter = 🔎 Фильтр
btn-adm-log-all = 📜 Всё
adm-ask-log-filter = ✍️ Отправьте кто (tg:123, cli:alice) или что (user:123, Telegram id, charge:…, job:…).
adm-transfers-kind = Вид: { $kind }
btn-adm-tkind = { $mark }{ $kind }
