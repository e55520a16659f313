## Admin panel: pricing, packages, referrals, templates, system

adm-on = on
adm-off = off
adm-bad-empty = ⚠️ Send some text.
adm-bad-model = ⚠️ No such model. Send one of the model ids shown, or - for none.
adm-bad-settings = ⚠️ Write settings as key=value, e.g. aspect_ratio=16:9 resolution=2K count=2, or - for none.
adm-bad-slug = ⚠️ An id is 1–32 characters: a-z, 0-9, - and _.
adm-bad-photo = ⚠️ Send the preview as a photo (or a JPEG, PNG or WEBP file).
adm-done-moved = ✅ Moved.
btn-adm-up = ⬆️
btn-adm-down = ⬇️

# models and prices
adm-models-title = 💲 Models and prices (tokens per image). ⭐ = the default model.
btn-adm-model-row = { $state } { $name } · { $price }{ $default }
btn-adm-packages = 📦 Stars packages
adm-model-head = 💲 { $name } ({ $id }) · { $state } { $default }
adm-model-default = · ⭐ default
adm-model-base = Base price: { $price } tokens per image
adm-model-extra-resolution = Resolution extras: { $extras }
adm-model-extra-quality = Quality extras: { $extras }
adm-model-per-ref = Per reference image: +{ $price }
adm-model-limits = Limits: up to { $refs } reference images, up to { $count } images per request
adm-model-example = Example, { $what }: { $explain } tokens
adm-model-example-default = 1 image, default settings
btn-adm-model-off = ⛔ Switch off
btn-adm-model-on = ✅ Switch on
btn-adm-model-default = ⭐ Make default
btn-adm-model-base = 💰 Base price
btn-adm-model-ref = 🖼 Per reference
btn-adm-model-extra = + { $option }
btn-adm-model-maxrefs = 📎 Max references
btn-adm-model-maxcount = 🔢 Max images
adm-model-field-base = base price
adm-model-field-ref = price per reference image
adm-model-field-maxrefs = max reference images
adm-model-field-maxcount = max images per request
adm-model-field-resolution = extra for { $option }
adm-model-field-quality = extra for quality { $option }
adm-ask-model-value = ✍️ { $name }: new { $what }? Now: { $current }.
adm-done-model-edit = ✅ { $name }: { $what } { $before } → { $after }.
adm-done-model-on = ✅ { $name } is on: users can pick it again.
adm-done-model-default = ✅ { $name } is the default model now.
adm-model-off-ask = ⛔ Switch { $name } off? New requests cannot use it at once. Queued generations: { $queued }.
btn-adm-model-off-keep = ⛔ Switch off, let queued ones run
btn-adm-model-off-refund = ⛔ Switch off and refund { $count } queued
adm-effect-model-off = switch { $name } off. Queued generations still run.
adm-effect-model-off-refund = switch { $name } off and refund its { $queued } queued generations (their users are told).
adm-done-model-off = ✅ { $name } is off. Refunded generations: { $refunded }.

# packages
adm-pkgs-title = 📦 Stars packages, in the order users see them
btn-adm-pkg-row = { $state } ⭐ { $stars } → { $tokens } +{ $bonus }%
btn-adm-pkg-add = ➕ New package
adm-pkg =
    📦 Package #{ $id } · { $state }
    ⭐ { $stars } → { $tokens } tokens + { $bonus }% bonus ({ $bonus_tokens })
adm-pkg-on = on sale
adm-pkg-off = not on sale
btn-adm-pkg-stars = ⭐ Stars
btn-adm-pkg-tokens = 🪙 Tokens
btn-adm-pkg-bonus = 🎁 Bonus %
btn-adm-pkg-off = ⛔ Take off sale
btn-adm-pkg-on = ✅ Put on sale
adm-pkg-term-stars = price in Stars
adm-pkg-term-tokens = tokens
adm-pkg-term-bonus = bonus %
adm-ask-pkg-value = ✍️ New { $what }? Now: { $current }.
adm-done-pkg-edit = ✅ Package: { $what } { $before } → { $after }. Invoices already sent keep their terms.
adm-done-pkg-on = ✅ The ⭐ { $stars } package is on sale.
adm-done-pkg-off = ✅ The ⭐ { $stars } package is off sale.
adm-ask-pkg-stars = ✍️ New package: its price in Stars?
adm-ask-pkg-tokens = ✍️ How many tokens does it give?
adm-ask-pkg-bonus = ✍️ Bonus % (0 for none)?
adm-effect-pkg-add = add a package: ⭐ { $stars } → { $tokens } tokens + { $bonus }% ({ $bonus_tokens } bonus), on sale.
adm-done-pkg-add = ✅ New package ⭐ { $stars } → { $tokens } tokens + { $bonus }%.

# referrals
adm-refs-title = 👥 Referral programme
adm-refs-rule = Programme: { $state } · cashback { $percent }% of { $mode }
adm-refs-mode-every = every top-up
adm-refs-mode-first = the first top-up only
adm-refs-paid = Cashback paid: { $week } tokens in 7 days · { $month } in 30 days
adm-refs-top = Top referrers (30 days):
adm-refs-top-row = { $n }. { $user } · { $friends } friends · { $week } / { $month } tokens (7 / 30 days)
adm-refs-top-none = No cashback paid in the last 30 days.
btn-adm-refs-pct = ✏️ Percent
btn-adm-refs-off = ⛔ Turn off
btn-adm-refs-on = ✅ Turn on
btn-adm-refs-mode-every = { $mark }Every top-up
btn-adm-refs-mode-first = { $mark }First top-up only
adm-ask-refs-pct = ✍️ Cashback percent (0–100)? Now: { $current }.
adm-done-refs-pct = ✅ Cashback { $before }% → { $after }%.
adm-done-refs-mode = ✅ Cashback is paid on { $mode }.
adm-done-refs-on = ✅ The referral programme is on.
adm-done-refs-off = ✅ The referral programme is off: invite links bind nobody, top-ups pay no cashback.

# templates
adm-tpls-title = 🧩 Templates (👁 shown · 🙈 hidden · 📌 pinned to trending; trending counts { $days } days)
btn-adm-tpl-row = { $state }{ $pin } { $title } · { $uses }
btn-adm-tpl-add = ➕ New template
btn-adm-tpl-cats = 🗂 Categories
btn-adm-trending-days = 🔥 Trending window: { $days } days
adm-tpl-head = 🧩 #{ $id } { $title } · { $state } { $pin } · used { $uses } times
adm-tpl-meta = Category: { $category } · model: { $model } · settings: { $settings }
adm-tpl-shown = shown
adm-tpl-hidden = hidden
adm-tpl-pinned = · 📌 pinned
btn-adm-tpl-hide = 🙈 Hide
btn-adm-tpl-show = 👁 Show
btn-adm-tpl-pin = 📌 Pin
btn-adm-tpl-unpin = 📍 Unpin
btn-adm-tpl-titles = ✏️ Titles
btn-adm-tpl-prompts = ✏️ Prompts
btn-adm-tpl-model = 🤖 Model
btn-adm-tpl-settings = ⚙️ Settings
btn-adm-tpl-photo = 🖼 Preview photo
btn-adm-tpl-delete = 🗑 Delete
adm-done-tpl-toggle = ✅ { $title }: { $on ->
        [1] shown to users
       *[0] hidden from users
    }.
adm-done-tpl-pin = ✅ { $title }: { $on ->
        [1] pinned to trending
       *[0] unpinned
    }.
adm-tpl-pick-cat = 🧩 New template: which category?
btn-adm-tpl-cat-row = { $name } · { $count }
adm-ask-tpl-title = ✍️ Title in { $language } (up to 64 characters)?
adm-ask-tpl-prompt = ✍️ Prompt in { $language }?
adm-ask-tpl-model = ✍️ Default model id ({ $models }), or - for the user's own model?
adm-ask-tpl-settings = ✍️ Default settings, e.g. aspect_ratio=16:9 resolution=2K, or - for none?
adm-effect-tpl-add = add template “{ $title }” to { $category }: model { $model }, settings { $settings }. Users see it at once.
adm-done-tpl-add = ✅ Template #{ $id } “{ $title }” created. Open it to add a preview photo.
adm-done-tpl-edit = ✅ { $title }: saved.
adm-ask-tpl-photo = 🖼 Send the preview image as a photo.
adm-done-tpl-photo = ✅ Preview photo saved.
adm-effect-tpl-delete = delete template “{ $title }” and its { $uses } use counts. Reason: { $reason }. Hiding it would keep them.
adm-done-tpl-delete = ✅ Template “{ $title }” deleted.
adm-cats-title = 🗂 Template categories (templates in each)
btn-adm-cat-add = ➕ New category
adm-ask-cat-slug = ✍️ The category id (a-z, 0-9, - and _; it never changes)?
adm-ask-cat-name = ✍️ Category name in { $language }?
adm-done-cat = ✅ Category { $slug }: “{ $name }”.

# system
adm-sys-title = 🛠 System
adm-sys-queue = Queue: { $queued } waiting, { $running } running · last hour: { $submitted } submitted, { $ok } ok, { $failed } failed
adm-sys-worker = Worker { $id } { $state } seen { $ago } s ago
adm-sys-no-workers = ⚠️ No worker heartbeat.
adm-sys-providers = Providers:
adm-sys-provider = • { $name }: key { $keystate } · last ok { $ok } · last error { $error } · latency { $latency } s
adm-key-configured = configured
adm-key-missing = ⚠️ missing
adm-key-not-needed = not needed
adm-key-unknown = unknown
adm-sys-models = Models:
adm-sys-model = • { $state } { $name } ({ $provider }): breaker { $breaker }, { $failures } failures · { $running }/{ $cap } running · { $queued } queued
adm-breaker-closed = closed
adm-breaker-open = ⚠️ open
adm-breaker-half_open = half-open (probing)
adm-breaker-until = until { $until } UTC
adm-sys-features = Features: templates { $templates } · referrals { $referrals } · top-ups { $topups }
adm-sys-maintenance = Maintenance mode: { $state }
adm-sys-maintenance-msg = Users get: { $text }
adm-sys-limits = Limits per user: { $per_min } actions/min, burst { $burst }, { $parallel } parallel jobs · per model: { $cap } at once
btn-adm-sys-model = { $state } { $name }
btn-adm-feature-templates = { $state } Templates
btn-adm-feature-referrals = { $state } Referrals
btn-adm-feature-topups = { $state } Top-ups
adm-feature-templates = Templates
adm-feature-referrals = Referrals
adm-feature-topups = Top-ups
adm-done-feature = ✅ { $feature }: { $state }.
btn-adm-maint-on = 🛠 Maintenance on
btn-adm-maint-off = ✅ Maintenance off
adm-ask-maint-msg = ✍️ The message users get during maintenance (or - for the built-in one)?
adm-effect-maint-on = turn maintenance mode ON. Users get: “{ $text }”. Admins and support pass.
adm-done-maint-on = ✅ Maintenance mode is on.
adm-done-maint-off = ✅ Maintenance mode is off.
btn-adm-user_actions_per_min = ⏱ Actions/min
btn-adm-user_burst = 💥 Burst
btn-adm-user_parallel_jobs = 🧵 Parallel jobs
btn-adm-model_concurrency = 🔀 Per model
btn-adm-refresh = 🔄 Refresh
adm-setting-limits-user_actions_per_min = messages and presses per minute per user
adm-setting-limits-user_burst = burst per user
adm-setting-limits-user_parallel_jobs = parallel generations per user
adm-setting-limits-model_concurrency = provider calls per model at once
adm-setting-trending-days = trending window (days)
adm-ask-setting = ✍️ New value for { $what } ({ $min }–{ $max })? Now: { $current }.
adm-done-setting = ✅ { $what }: { $before } → { $after }. Every process picks it up within seconds.
btn-adm-model-conc = ⚙️ Concurrency
adm-model-field-conc = concurrency (0 = the shared limit)
