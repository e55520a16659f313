# Texts the admin service layer needs users to see (maintenance mode, switched-off features and models).
maintenance-default = 🛠 The bot is under maintenance. Please come back a little later.
error-feature-off = This feature is switched off right now.
fail-model-disabled = This model was switched off before your request started. Choose another model.

## Admin panel: the kit (typed values, confirmations, pages)

adm-bad-number = ⚠️ That is not a number. Send digits only, for example 50.
adm-bad-negative = ⚠️ The number cannot be negative. Send { $min } or more.
adm-bad-too-small = ⚠️ Too small. Send { $min } or more.
adm-bad-zero = ⚠️ Zero changes nothing. Send a number above 0.
adm-bad-too-big = ⚠️ Too big. The most is { $max }.
adm-bad-too-long = ⚠️ Too long. Send at most { $limit } characters.
adm-bad-reason = ⚠️ Write a short reason in words (it goes to the admin log).
adm-bad-reason-long = ⚠️ The reason is too long. Keep it under { $limit } characters.
adm-bad-query = ⚠️ Send some text to search for.
adm-failed = ⚠️ Not done: { $error }
adm-press-yes-no = Press ✅ Yes or ✖ No below.
btn-adm-yes = ✅ Yes
btn-adm-no = ✖ No
adm-page-of = { $first }–{ $last } of { $total }
adm-section-soon = This section is not ready yet.

## Admin panel: home

adm-glance = Today: { $users } new users · generations { $ok } ok / { $failed } failed
    ⭐ { $stars } in · { $tokens } tokens sold
    Queue: { $queued } waiting, { $running } running
adm-glance-providers = Providers up: { $up } · down: { $down }

## Admin panel: users

adm-users-newest = 👤 Newest users
adm-users-found = 🔎 Search: { $query }
admin-ask-search-all = ✍️ Send a Telegram id, @username, name, payment charge id or referral code.
btn-adm-user-row = { $status } { $name } · { $balance }
btn-adm-search = 🔎 Search
btn-adm-all-users = 👥 All users
adm-card =
    👤 { $name } · @{ $username } · id { NUMBER($tg_id, useGrouping: 0) }
    Role: { $role } · { $status }
    Balance: { $balance } · held { $held } · debt { $debt }
    Invited by: { $referrer } · friends: { $friends }
    Spent: { $spent } tokens · generations: { $jobs }
    Payments: { $payments } (⭐ { $stars }) · joined { $date }
adm-card-ban-reason = Ban reason: { $reason }
adm-effect-ban = ban { $user }. Reason: { $reason }. They are told once.
adm-effect-unban = unban { $user }. Reason: { $reason }. They are told once.
adm-ask-adjust = ✍️ How many tokens? { $user } has { $balance }.
adm-effect-adjust = { $user }: { $delta } tokens, balance { $before } → { $after }. Reason: { $reason }. They are told.
adm-effect-role = { $user }: role { $old } → { $new }.
adm-role-pick = 🎭 { $user } is { $role }. New role:
btn-adm-role-user = 👤 User
btn-adm-role-support = 🛟 Support
btn-adm-role-admin = 🛠 Admin
adm-user-jobs = 🖼 Generations of { $user }
adm-user-payments = 🧾 Payments of { $user }
btn-adm-job-row = { $status } { $date } · { $model } · { $cost }
btn-adm-pay-row = { $status } { $date } · ⭐ { $stars } → { $tokens }
adm-job =
    🖼 { $status } · { $model } · { $cost } tokens
    User: { $user } · { $date }
    Attempts: { $attempts } of { $max } · last error: { $error }
    Prompt: { $prompt }
btn-adm-job-retry = 🔁 Retry now
btn-adm-job-refund = ↩️ Refund
adm-done-retry = ✅ Back in the queue.
adm-effect-job-refund = stop this generation of { $user } and return { $tokens } tokens. Reason: { $reason }.
adm-done-job-refund = ✅ Stopped; { $tokens } tokens returned. The user is told.
adm-notice-banned = ⛔ Your access to the bot was blocked. Reason: { $reason }
adm-notice-unbanned = ✅ Your access to the bot is restored. Welcome back!
adm-notice-adjusted = 🪙 Your balance was corrected: { $delta } tokens ({ $reason }). Balance: { $balance }.

## Admin panel: transactions

adm-payments-title = 🧾 Payments · { $period }
adm-period-all = all time
adm-period-day = last 24 h
adm-period-week = last 7 days
btn-adm-period-all = All
btn-adm-period-day = 24 h
btn-adm-period-week = 7 days
adm-filter-user = User: { $user }
btn-adm-filter-user = 👤 By user
btn-adm-transfers = 📒 Transfers
btn-adm-jobs-queued = ⏳ Queued
btn-adm-jobs-running = ⚙️ Running
btn-adm-jobs-failed = ❌ Failed
adm-ask-tg-id = ✍️ Send the user's Telegram id (a number).
adm-payment =
    ⭐ { $stars } → { $tokens } tokens + { $bonus } bonus · { $status }
    Payer: { $user } · { $date }
    Charge: { $charge }
adm-payment-paid = paid
adm-payment-refunded = ↩️ refunded
adm-payment-refund-info = Refunded by { $actor }: { $reason } · debt left: { $debt }
adm-transfers-title = Transfers:
btn-adm-refund = ↩️ Refund
adm-effect-refund = refund ⭐ { $stars } to { $user }: −{ $tokens } tokens. Reason: { $reason }.
adm-effect-refund-cashback = −{ $tokens } cashback from { $user }.
adm-effect-refund-debt = They spent some: { $debt } tokens become their debt.
adm-done-refund = ✅ Refunded ⭐ { $stars } to { $user }: −{ $tokens } tokens, −{ $cashback } cashback, debt { $debt }.
adm-transfers-list = 📒 Transfers · { $period }
adm-jobs-queued = ⏳ Queued generations
adm-jobs-running = ⚙️ Running generations
adm-jobs-failed = ❌ Failed generations

## Admin panel: admin log

adm-log-title = 📜 Admin log
adm-log-filter = Filter: { $filter }
adm-log-reason = reason: { $reason }
btn-adm-log-filter = 🔎 Filter
btn-adm-log-all = 📜 Everything
adm-ask-log-filter = ✍️ Send who (tg:123, cli:alice) or what (user:123, a Telegram id, charge:…, job:…).
adm-transfers-kind = Kind: { $kind }
btn-adm-tkind = { $mark }{ $kind }
