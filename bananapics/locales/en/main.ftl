# BananaPicsBot — English.
# Keys and $placeholders must match uz/main.ftl and ru/main.ftl (tests/test_i18n.py checks).
# btn-* are button labels (≤ 64 chars), toast-* callback answers (≤ 200), cmd-* command descriptions.

language-name = English

## Commands (SetBotCommands)

cmd-start = Main menu
cmd-generate = Create an image
cmd-balance = Balance and top-up
cmd-history = My images
cmd-templates = Prompt templates
cmd-invite = Invite friends and earn tokens
cmd-settings = Language and defaults
cmd-help = How it works and prices
cmd-terms = Terms of service
cmd-privacy = Privacy policy
cmd-support = Contact support
cmd-paysupport = Help with payments and refunds
cmd-admin = Admin panel

## Common

btn-menu = 🏠 Menu
btn-back = ◀ Back
btn-cancel = ✖ Cancel
btn-prev = ◀
btn-next = ▶
btn-page = { $page }/{ $pages }
btn-confirm = ✅ Confirm
toast-outdated = This button is outdated.
error-stale = This button is outdated: open it again from the menu.
toast-saved = ✅ Saved
toast-cancelled = Cancelled.
toast-slow-down = ⏳ Too fast. Wait a second.
toast-wait = ⏳ Working on it…
rate-limited = ⏳ Too many requests. Wait { $seconds } s and try again.
banned = ⛔ Your account is blocked. If you think this is a mistake, write to /support.
error-generic = 😕 Something went wrong. Please try again in a minute.
feature-off = This feature is switched off right now. Please try later.
unknown-input = I did not understand that. Use the buttons below.

## Main menu

menu-title = 🍌 BananaPics — balance: { $balance ->
    [one] { $balance } token
   *[other] { $balance } tokens
}
menu-welcome = 👋 Welcome to BananaPics! Describe an idea, choose a model and get an image made by AI.
menu-welcome-referred = 👋 { $name } invited you. Welcome to BananaPics!
btn-generate = 🎨 Generate
btn-templates = 🧩 Templates
btn-trending = 🔥 Trending
btn-history = 🖼 History
btn-balance = 💰 Balance
btn-invite = 👥 Invite friends
btn-settings = ⚙️ Settings
btn-help = ❓ Help

## Generate wizard — 1. model

gen-model-title = 🎨 Choose a model:
btn-model = { $name } · from { $price }
btn-model-default = { $name } · from { $price } ✓
gen-no-models = 😔 No models are available right now. Please try again later.
error-model-disabled = { $model } is switched off right now. Choose another model.
error-model-unknown = This model is no longer available. Choose another one.

## 2. prompt

gen-prompt-ask =
    ✍️ Send a description of the image.
    Model: { $model } · up to { $limit } characters.
gen-prompt-not-text = Please send the description as a text message.
btn-pick-template = 🧩 Pick a template
error-prompt-empty = The description is empty. Send a few words about the image.
error-prompt-too-long = The description is too long: { $length } characters, the limit is { $limit }. Shorten it and send it again.

## 3. references

gen-refs-ask = 🖼 Send up to { $max ->
    [one] { $max } photo
   *[other] { $max } photos
} to guide the model, or skip this step.
gen-refs-count = Photos added: { $count } of { $max }.
gen-refs-limit = That is the limit for this model: { $max ->
    [one] { $max } photo
   *[other] { $max } photos
}. Extra photos were not added.
gen-refs-cleared = Photos removed.
btn-skip = Skip ▶
btn-refs-done = ✅ Done ({ $count })
btn-refs-clear = 🗑 Clear
error-not-an-image = That's not an image. Send a photo or a JPEG, PNG or WebP file.
error-image-too-large = This image is too large (limit { $max_mb } MB). Send a smaller one.
error-image-too-many-pixels = This image has too many pixels: a PNG or WEBP can be at most { $side }×{ $side }. Send it as a photo, as a JPEG file, or make it smaller.
error-image-canvas-too-large = This image has too many pixels (at most { $limit } megapixels). Send a smaller one.

## 4. settings

gen-settings-title = ⚙️ Settings for { $model }. Tap a row to change it.
gen-setting-choose = { $label }: choose a value.
setting-aspect-ratio = Aspect ratio
setting-resolution = Resolution
setting-quality = Quality
setting-count = Images
setting-format = Format
quality-low = Low
quality-medium = Medium
quality-high = High
quality-auto = Auto
btn-setting = { $label }: { $value }
btn-option = { $value }
btn-option-selected = ✓ { $value }
btn-count = ×{ $count }
error-setting-unsupported = This model does not support that option. Choose another one.

## 5. confirm

confirm-title = Check your request:
confirm-model = Model: { $model } · { $options }
confirm-prompt = Prompt: “{ $prompt }”
confirm-template = Template: { $title }
confirm-refs = References: { $count }
confirm-price = Price: { $count } × { $per_image } = { $total ->
    [one] { $total } token
   *[other] { $total } tokens
} · balance after: { $after }
confirm-price-single = Price: { $total ->
    [one] { $total } token
   *[other] { $total } tokens
} · balance after: { $after }
confirm-breakdown = Per image: { $lines }
price-line-base = base { $amount }
price-line-resolution = { $value } +{ $amount }
price-line-quality = { $value } quality +{ $amount }
price-line-refs = { $count ->
    [one] { $count } reference
   *[other] { $count } references
} +{ $amount }
confirm-short = ⚠️ Not enough tokens: the price is { $price }, your balance is { $balance }. Top up at least { $shortfall } more.
btn-generate-price = ✅ Generate — { $price }
btn-topup-shortfall = 💰 Top up (+{ $shortfall })
btn-edit = ✏️ Edit
gen-edit-title = What do you want to change?
btn-edit-model = 🎨 Model
btn-edit-prompt = ✏️ Edit prompt
btn-edit-refs = 🖼 References
btn-edit-settings = ⚙️ Settings
gen-cancelled = Cancelled. No tokens were charged.
error-price-changed = The price has changed. Check the new price and confirm again.
error-draft-expired = This request has expired. Start a new one.
error-insufficient = Not enough tokens: { $available } available, { $needed } needed.
error-too-many-jobs = You already have { $limit ->
    [one] { $limit } generation
   *[other] { $limit } generations
} running. Wait for one to finish.

## 6. progress

gen-started = ✅ Request accepted. { $price ->
    [one] { $price } token is
   *[other] { $price } tokens are
} reserved until it is done.
progress-queued = ⏳ Generating… position in queue: { $position }
progress-running = ⏳ Generating… This usually takes under a minute.
progress-retrying = ⏳ The model is busy, trying again…

## 7. result

result-caption = 🎨 { $model } · “{ $prompt }”
result-files = 📎 Full-quality files
result-done = ✅ Done: { $count ->
    [one] { $count } image
   *[other] { $count } images
} for { $cost } tokens. Full-quality files are above.
btn-again = 🔁 Again
btn-new = 🆕 New

## 8. failure

fail-title = ❌ The image could not be created.
fail-moderation = The model refused this prompt. Rephrase it and try again.
fail-bad-request = The model could not process this request. Try other settings or another model.
fail-auth = This model is temporarily unavailable. Try another model.
fail-quota = This model is temporarily unavailable. Try another model.
fail-rate-limited = The model is busy. Try again in a minute.
fail-provider-down = The model's service is not responding. Try again later or choose another model.
fail-timeout = The model took too long to answer. Try again.
fail-no-image = The model returned no image, probably because of the prompt. Rephrase it and try again.
fail-reference = A reference image could not be read. Send it again.
fail-unknown = Something went wrong on our side. Try again.
fail-refund = ↩️ { $tokens ->
    [one] { $tokens } token was
   *[other] { $tokens } tokens were
} returned to your balance.
result-partial = ⚠️ { $got } of { $asked } images arrived. { $refund ->
    [one] { $refund } token
   *[other] { $refund } tokens
} for the rest returned to your balance.
btn-try-again = 🔁 Try again
btn-other-model = 🔀 Other model

## Balance and top-up

balance-title = 💰 Balance: { $balance ->
    [one] { $balance } token
   *[other] { $balance } tokens
}
balance-title-held = 💰 Balance: { $balance ->
    [one] { $balance } token
   *[other] { $balance } tokens
} ({ $held } held for a running job)
btn-topup = ⭐ Top up
btn-payments = 🧾 Payments
topup-title = ⭐ Choose a package. You pay with Telegram Stars.
topup-terms = By paying you agree to the /terms.
topup-none = No packages are available right now. Please try later.
btn-package = ⭐ { $stars } → { $tokens } tokens
btn-package-bonus = ⭐ { $stars } → { $tokens } tokens (+{ $bonus }%)
invoice-title = { $tokens } BananaPics tokens
invoice-description = { $tokens } tokens for AI image generation in BananaPics. They arrive on your balance right after payment. Terms: /terms
invoice-label = { $tokens } tokens
precheckout-expired = This invoice has expired. Open Top up and choose a package again.
precheckout-paid = This invoice is already paid.
precheckout-mismatch = This invoice does not match the package. Choose a package again.
precheckout-invalid = This invoice is no longer valid. Choose a package again.
precheckout-banned = Your account is blocked, so payments are not accepted.
topup-thanks = ✅ +{ $tokens } tokens. Balance: { $balance }
topup-thanks-bonus = 🎁 Including a bonus of { $bonus } tokens.
payment-refunded = ↩️ Payment refunded: ⭐ { $stars }. { $tokens } tokens were removed from your balance. Balance: { $balance }
payments-title = 🧾 Your payments
payments-empty = No payments yet.
payments-item = { $date } · ⭐ { $stars } → { $tokens } tokens · { $status }
payment-status-paid = paid
payment-status-refunded = refunded
payments-refund-howto = Need help or a refund? Write to /paysupport with the date and amount of the payment.

## Invite friends

ref-title = 👥 Invite friends
ref-link = Your personal link:
ref-stats = Friends joined: { $friends } · tokens earned: { $earned }
ref-rule-every = 🎁 You get { $percent }% of every top-up your friends make.
ref-rule-first = 🎁 You get { $percent }% of your friend's first top-up.
ref-rule-off = Referral rewards are paused right now.
btn-share = 📤 Share
ref-share-text = 🍌 Create images with AI in BananaPics
ref-cashback = 🎁 Your friend topped up: +{ $tokens } tokens to your balance.
ref-friend-joined = 👋 { $name } joined through your link.
error-unknown-code = This invite link is not valid.
error-self = You cannot use your own invite link.
error-already-bound = You have already joined through another invite.
error-too-late = Invite links work only before the first top-up.
error-cycle = This invite link cannot be used: that friend joined through you.
error-referral-rejected = This invite link cannot be used.

## History

history-title = 🖼 History · page { $page }/{ $pages }
history-empty = No images yet. Tap 🎨 Generate to create your first one.
history-item = { $date } · { $model } · “{ $prompt }” · { $status } · { $cost }
btn-history-item = { $n }. { $date } · { $model }
job-status-queued = queued
job-status-running = generating
job-status-succeeded = done
job-status-partial = partly done
job-status-failed = failed
history-detail-date = 🖼 { $date }
history-detail-status = Status: { $status } · cost: { $cost } tokens
history-files-gone = The files of this generation are no longer stored.
btn-send-again = 📤 Send again
btn-regenerate = 🔁 Regenerate
btn-use-prompt = ✏️ Use this prompt

## Templates and trending

templates-title = 🧩 Templates. Choose a category:
templates-category = 🧩 { $category } · { $page }/{ $pages }
templates-empty = No templates here yet.
template-card = 🧩 { $title }
template-uses = Used { $count ->
    [one] { $count } time
   *[other] { $count } times
}
template-applied = ✅ Template “{ $title }” applied.
template-unavailable = This template is no longer available.
btn-use = ✅ Use
trending-title = 🔥 Trending: the most used in the last { $days ->
    [one] day
   *[other] { $days } days
}
trending-empty = Nothing is trending yet.
btn-trending-item = { $n }. { $title }
btn-trending-pinned = 📌 { $title }

## Settings

settings-title =
    ⚙️ Settings
    Language: { $language }
    Default model: { $model }
    Default aspect ratio: { $ratio }
btn-language = 🌐 Language
btn-default-model = 🎨 Default model
btn-default-ratio = 📐 Aspect ratio
settings-language-title = 🌐 Choose your language:
settings-language-set = ✅ Language: English
settings-model-title = 🎨 Choose your default model:
settings-model-set = ✅ Default model: { $model }
settings-model-auto = Recommended
settings-ratio-title = 📐 Choose your default aspect ratio:
settings-ratio-set = ✅ Default aspect ratio: { $ratio }

## Help and legal

help-text =
    ❓ How it works
    1. Tap 🎨 Generate and choose a model.
    2. Describe the image, or pick a template.
    3. Add reference photos if you like, and adjust the settings.
    4. Check the price and confirm. Tokens are reserved and charged only for delivered images; a failed generation is refunded automatically.

    Tokens are bought with Telegram Stars: 💰 Balance → ⭐ Top up.
help-prices-title = 💲 Prices per image:
help-price-line = • { $model } — from { $price } tokens
help-commands =
    Commands: /start menu · /generate new image · /balance balance · /history my images · /settings language, default model and ratio
    Rules and help: /terms · /privacy · /paysupport · /support
btn-terms = 📄 Terms
btn-privacy = 🔒 Privacy
btn-paysupport = 💳 Payment help
btn-support = 💬 Support
terms-text =
    📄 Terms of service

    1. BananaPics creates images with AI models from your descriptions and photos.
    2. Generations are paid with tokens. Tokens are bought with Telegram Stars; the price of every request is shown before you confirm it.
    3. Tokens are charged only for delivered images. If a generation fails, its tokens return to your balance automatically.
    4. Do not request illegal content, content that violates the rights of others, or sexual content involving minors. Requests may be refused by the models; accounts that abuse the service may be blocked.
    5. Only send photos you have the right to use.
    6. AI results may be inaccurate or unexpected; you are responsible for how you use them.
    7. For payment problems and refunds use /paysupport. A refund takes back the tokens of that payment; tokens already spent become a debt that your next top-up repays, and generation is paused until then. Telegram support cannot help with purchases made in this bot.
    8. Prices and these terms may change; the price shown before confirmation always applies.
privacy-text =
    🔒 Privacy policy

    We store: your Telegram id, name, username and language; your descriptions, reference photos and results (to deliver them and show your history); your payments and token operations.
    Your descriptions and photos are sent to the AI model provider you choose, only to create your images.
    We do not sell or share your data for advertising. Images are deleted from our storage after a retention period.
    To delete your data, write to /support.
support-text =
    💬 Support
    Write your question to { $contact }. Describe what happened and when.
    For payments and refunds use /paysupport. Telegram support cannot help with purchases made in this bot.
paysupport-text =
    💳 Payment support
    Problem with a payment or want a refund? Write to { $contact } with the date and amount of the payment.
    A failed generation is refunded in tokens automatically. Telegram support cannot help with purchases made in this bot.
    If the Pay button fails in Telegram Desktop, pay from the Telegram app on your phone: Desktop sometimes refuses small Star invoices from bots.

## Service errors (by BananaError.code)

error-not-found = Not found. It may have been deleted.
error-invalid = This value is not accepted. Check it and try again.
error-forbidden = You do not have access to this.
error-conflict = This was already done with other values.

## Admin panel

admin-title = 🛠 Admin panel
admin-forbidden = Your role does not allow this.
admin-empty = Nothing here yet.
btn-admin-users = 👤 Users
btn-admin-pricing = 💲 Pricing
btn-admin-packages = 📦 Packages
btn-admin-referrals = 👥 Referrals
btn-admin-templates = 🧩 Templates
btn-admin-transactions = 🧾 Transactions
btn-admin-system = 🛠 System
btn-admin-log = 📜 Admin log
btn-admin-home = 🛠 Admin panel
admin-ask-reason = ✍️ Send the reason (it is saved in the admin log).
admin-ask-amount = ✍️ Send the number of tokens.
admin-ask-value = ✍️ Send the new value for { $field } (now: { $current }).
admin-ask-search = ✍️ Send a @username, Telegram id or name to search.
admin-invalid-number = That is not a valid number. Send a whole number.
admin-confirm = ⚠️ Please confirm: { $action }
admin-cancelled = Cancelled. Nothing changed.
admin-users-title = 👤 Users: { $count }
admin-users-none = Nobody found.
admin-user-card =
    👤 { $name } · @{ $username } · id { NUMBER($tg_id, useGrouping: 0) }
    Role: { $role } · { $status }
    Balance: { $balance } (held { $held })
    Joined: { $date } · generations: { $jobs } · payments: { $payments }
admin-user-active = active
admin-user-banned = ⛔ banned
role-user = User
role-support = Support
role-admin = Admin
btn-admin-ban = ⛔ Ban
btn-admin-unban = ✅ Unban
btn-admin-grant = ➕ Add tokens
btn-admin-deduct = ➖ Remove tokens
btn-admin-role = 🎭 Role
btn-admin-user-jobs = 🖼 Generations
btn-admin-user-payments = 🧾 Payments
admin-done-adjust = ✅ { $user }: { $delta } tokens, balance { $balance }, reason: { $reason }
admin-done-ban = ✅ { $user } is banned. Reason: { $reason }
admin-done-unban = ✅ { $user } is unbanned. Reason: { $reason }
admin-done-role = ✅ { $user }: role { $role }
admin-pricing-title = 💲 Models and prices
btn-admin-model = { $status } { $name } · { $price }
admin-model-card =
    🎨 { $name } ({ $model })
    Status: { $status }
    Base price: { $base } tokens per image
    Extras: { $extras }
    Up to { $max_refs } references, up to { $max_count } images
admin-model-on = ✅ on
admin-model-off = ⛔ off
admin-model-default = ⭐ default
btn-admin-model-enable = ✅ Enable
btn-admin-model-disable = ⛔ Disable
btn-admin-model-default = ⭐ Make default
btn-admin-price-base = 💲 Base price
btn-admin-price-resolution = 🖥 Resolution prices
btn-admin-price-quality = ✨ Quality prices
btn-admin-price-refs = 🖼 Price per reference
btn-admin-limit-refs = 🖼 Max references
btn-admin-limit-count = 🔢 Max images
admin-packages-title = 📦 Top-up packages
btn-admin-package = { $status } ⭐ { $stars } → { $tokens } (+{ $bonus }%)
btn-admin-package-on = ✅ Activate
btn-admin-package-off = ⛔ Deactivate
btn-admin-package-add = ➕ New package
btn-admin-package-stars = ⭐ Stars
btn-admin-package-tokens = 🪙 Tokens
btn-admin-package-bonus = 🎁 Bonus %
btn-admin-package-sort = ↕️ Order
admin-package-ask = ✍️ Send: stars tokens bonus%, for example “250 500 10”.
admin-referrals-title =
    👥 Referral rule
    Cashback: { $percent }% · paid on: { $mode }
    Referred users: { $users } · paid out: { $paid } tokens
referral-mode-every = every top-up
referral-mode-first = the first top-up only
btn-admin-ref-percent = ✏️ Change %
btn-admin-ref-every = 🔁 Every top-up
btn-admin-ref-first = 1️⃣ First top-up only
admin-templates-title = 🧩 Templates: { $count }
btn-admin-template = { $status } { $title }
btn-admin-template-add = ➕ New template
btn-admin-template-on = ✅ Show
btn-admin-template-off = ⛔ Hide
btn-admin-template-pin = 📌 Pin
btn-admin-template-unpin = 📍 Unpin
btn-admin-template-delete = 🗑 Delete
admin-transactions-title = 🧾 Payments · page { $page }/{ $pages }
admin-tx-line = { $date } · { $user } · ⭐ { $stars } → { $tokens } · { $status }
btn-admin-refund = ↩️ Refund
admin-refund-confirm = Refund ⭐ { $stars } to { $user }? { $tokens } tokens will be removed from their balance.
admin-refund-done = ✅ Refunded ⭐ { $stars } to { $user }. Reason: { $reason }
admin-refund-failed = ❌ Telegram refused the refund: { $error }
admin-system-title = 🛠 System
admin-queue = Queue: { $queued } waiting, { $running } running
admin-provider-ok = ✅ { $provider } · { $latency } ms
admin-provider-fail = ❌ { $provider }: { $error }
admin-provider-nokey = ⚪ { $provider }: no key
admin-setting-line = { $key } = { $value }
btn-admin-check = 🔌 Check providers
btn-admin-setting = ✏️ { $key }
admin-log-title = 📜 Admin log · page { $page }/{ $pages }
admin-log-line = { $date } · { $actor } · { $action } · { $target }
