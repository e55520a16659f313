# BananaPicsBot — o‘zbekcha (lotin yozuvi). Standart til.
# Kalitlar va $placeholderlar en/main.ftl va ru/main.ftl bilan bir xil bo‘lishi shart (tests/test_i18n.py).
# btn-* tugma matnlari (≤ 64 belgi), toast-* qisqa javoblar (≤ 200), cmd-* buyruqlar tavsifi.

language-name = O'zbekcha

## Buyruqlar (SetBotCommands)

cmd-start = Bosh menyu
cmd-generate = Rasm yaratish
cmd-balance = Balans va to‘ldirish
cmd-history = Mening rasmlarim
cmd-templates = Prompt shablonlari
cmd-invite = Do‘stlarni taklif qilish va token olish
cmd-settings = Til va standart sozlamalar
cmd-help = Qanday ishlaydi va narxlar
cmd-terms = Foydalanish shartlari
cmd-privacy = Maxfiylik siyosati
cmd-support = Yordam xizmati
cmd-paysupport = To‘lov va pulni qaytarish bo‘yicha yordam
cmd-admin = Admin panel

## Umumiy

btn-menu = 🏠 Menyu
btn-back = ◀ Orqaga
btn-cancel = ✖ Bekor qilish
btn-prev = ◀
btn-next = ▶
btn-page = { $page }/{ $pages }
btn-confirm = ✅ Tasdiqlash
toast-outdated = Bu tugma eskirgan.
error-stale = Bu tugma eskirgan: menyudan qaytadan oching.
toast-saved = ✅ Saqlandi
toast-cancelled = Bekor qilindi.
toast-slow-down = ⏳ Juda tez. Bir soniya kuting.
toast-wait = ⏳ Bajarilmoqda…
rate-limited = ⏳ So‘rovlar juda ko‘p. { $seconds } soniya kutib, qayta urinib ko‘ring.
banned = ⛔ Hisobingiz bloklangan. Bu xato deb hisoblasangiz, /support ga yozing.
error-generic = 😕 Nimadir xato ketdi. Bir daqiqadan so‘ng qayta urinib ko‘ring.
feature-off = Bu funksiya hozircha o‘chirilgan. Keyinroq urinib ko‘ring.
unknown-input = Tushunmadim. Quyidagi tugmalardan foydalaning.

## Bosh menyu

menu-title = 🍌 BananaPics — balans: { $balance } token
menu-welcome = 👋 BananaPics’ga xush kelibsiz! G‘oyangizni yozing, model tanlang va AI yaratgan rasmni oling.
menu-welcome-referred = 👋 Sizni { $name } taklif qildi. BananaPics’ga xush kelibsiz!
btn-generate = 🎨 Rasm yaratish
btn-templates = 🧩 Shablonlar
btn-trending = 🔥 Trendda
btn-history = 🖼 Tarix
btn-balance = 💰 Balans
btn-invite = 👥 Do‘stlarni taklif qilish
btn-settings = ⚙️ Sozlamalar
btn-help = ❓ Yordam

## Rasm yaratish — 1. model

gen-model-title = 🎨 Modelni tanlang:
btn-model = { $name } · { $price } tokendan
btn-model-default = { $name } · { $price } tokendan ✓
gen-no-models = 😔 Hozir hech qaysi model mavjud emas. Keyinroq urinib ko‘ring.
error-model-disabled = { $model } hozir o‘chirilgan. Boshqa model tanlang.
error-model-unknown = Bu model endi mavjud emas. Boshqasini tanlang.

## 2. prompt

gen-prompt-ask =
    ✍️ Rasm tavsifini yuboring.
    Model: { $model } · { $limit } belgigacha.
gen-prompt-not-text = Tavsifni matn ko‘rinishida yuboring.
btn-pick-template = 🧩 Shablon tanlash
error-prompt-empty = Tavsif bo‘sh. Rasm haqida bir necha so‘z yozing.
error-prompt-too-long = Tavsif juda uzun: { $length } belgi, chegara — { $limit }. Qisqartirib, qayta yuboring.

## 3. namuna rasmlar

gen-refs-ask = 🖼 Modelga yo‘nalish berish uchun { $max } tagacha rasm yuboring yoki bu qadamni o‘tkazib yuboring.
gen-refs-count = Qo‘shilgan rasmlar: { $count } / { $max }.
gen-refs-limit = Bu model uchun chegara: { $max } ta rasm. Ortiqcha rasmlar qo‘shilmadi.
gen-refs-cleared = Rasmlar o‘chirildi.
btn-skip = O‘tkazib yuborish ▶
btn-refs-done = ✅ Tayyor ({ $count })
btn-refs-clear = 🗑 Tozalash
error-not-an-image = Bu rasm emas. Foto yoki JPEG, PNG, WebP fayl yuboring.
error-image-too-large = Rasm juda katta (chegara { $max_mb } MB). Kichikroq rasm yuboring.
error-image-too-many-pixels = Bu rasmda piksellar juda ko‘p: PNG yoki WEBP ko‘pi bilan { $side }×{ $side } bo‘lishi mumkin. Uni rasm sifatida, JPEG fayl qilib yuboring yoki kichraytiring.
error-image-canvas-too-large = Bu rasmda piksellar juda ko‘p (ko‘pi bilan { $limit } megapiksel). Kichikroq rasm yuboring.

## 4. sozlamalar

gen-settings-title = ⚙️ { $model } sozlamalari. O‘zgartirish uchun qatorni bosing.
gen-setting-choose = { $label }: qiymatni tanlang.
setting-aspect-ratio = Tomonlar nisbati
setting-resolution = O‘lcham
setting-quality = Sifat
setting-count = Rasmlar soni
setting-format = Format
quality-low = Past
quality-medium = O‘rta
quality-high = Yuqori
quality-auto = Avto
btn-setting = { $label }: { $value }
btn-option = { $value }
btn-option-selected = ✓ { $value }
btn-count = ×{ $count }
error-setting-unsupported = Bu model bunday sozlamani qo‘llamaydi. Boshqasini tanlang.

## 5. tasdiqlash

confirm-title = So‘rovingizni tekshiring:
confirm-model = Model: { $model } · { $options }
confirm-prompt = Prompt: “{ $prompt }”
confirm-template = Shablon: { $title }
confirm-refs = Namuna rasmlar: { $count }
confirm-price = Narx: { $count } × { $per_image } = { $total } token · to‘lovdan keyin balans: { $after }
confirm-price-single = Narx: { $total } token · to‘lovdan keyin balans: { $after }
confirm-breakdown = Bitta rasm uchun: { $lines }
price-line-base = asosiy { $amount }
price-line-resolution = { $value } +{ $amount }
price-line-quality = { $value } sifat +{ $amount }
price-line-refs = { $count } ta namuna +{ $amount }
confirm-short = ⚠️ Token yetarli emas: narx { $price }, balansingiz { $balance }. Kamida yana { $shortfall } token to‘ldiring.
btn-generate-price = ✅ Yaratish — { $price }
btn-topup-shortfall = 💰 To‘ldirish (+{ $shortfall })
btn-edit = ✏️ Tahrirlash
gen-edit-title = Nimani o‘zgartirmoqchisiz?
btn-edit-model = 🎨 Model
btn-edit-prompt = ✏️ Promptni tahrirlash
btn-edit-refs = 🖼 Namuna rasmlar
btn-edit-settings = ⚙️ Sozlamalar
gen-cancelled = Bekor qilindi. Token yechilmadi.
error-price-changed = Narx o‘zgardi. Yangi narxni tekshirib, qayta tasdiqlang.
error-draft-expired = Bu so‘rovning muddati o‘tgan. Yangisini boshlang.
error-insufficient = Token yetarli emas: { $available } ta bor, { $needed } ta kerak.
error-too-many-jobs = Sizda allaqachon { $limit } ta generatsiya bajarilmoqda. Bittasi tugashini kuting.

## 6. jarayon

gen-started = ✅ So‘rov qabul qilindi. Natija tayyor bo‘lguncha { $price } token band qilindi.
progress-queued = ⏳ Yaratilmoqda… navbatdagi o‘rningiz: { $position }
progress-running = ⏳ Yaratilmoqda… Odatda bir daqiqadan kam vaqt oladi.
progress-retrying = ⏳ Model band, qayta urinilmoqda…

## 7. natija

result-caption = 🎨 { $model } · “{ $prompt }”
result-files = 📎 To‘liq sifatdagi fayllar
result-done = ✅ Tayyor: { $count } ta rasm, { $cost } token. To‘liq sifatdagi fayllar yuqorida.
btn-again = 🔁 Yana
btn-new = 🆕 Yangi

## 8. xatolik

fail-title = ❌ Rasmni yaratib bo‘lmadi.
fail-moderation = Model bu promptni rad etdi. Boshqacha yozib, qayta urinib ko‘ring.
fail-bad-request = Model bu so‘rovni bajara olmadi. Boshqa sozlamalar yoki boshqa modelni sinab ko‘ring.
fail-auth = Bu model vaqtincha ishlamayapti. Boshqa modelni tanlang.
fail-quota = Bu model vaqtincha ishlamayapti. Boshqa modelni tanlang.
fail-rate-limited = Model band. Bir daqiqadan so‘ng qayta urinib ko‘ring.
fail-provider-down = Model xizmati javob bermayapti. Keyinroq urinib ko‘ring yoki boshqa model tanlang.
fail-timeout = Model juda uzoq javob bermadi. Qayta urinib ko‘ring.
fail-no-image = Model rasm qaytarmadi, ehtimol prompt sababli. Boshqacha yozib, qayta urinib ko‘ring.
fail-reference = Namuna rasmni o‘qib bo‘lmadi. Uni qayta yuboring.
fail-unknown = Biz tomonda nimadir xato ketdi. Qayta urinib ko‘ring.
fail-refund = ↩️ { $tokens } token balansingizga qaytarildi.
result-partial = ⚠️ { $asked } ta rasmdan { $got } tasi tayyor bo‘ldi. Qolganlari uchun { $refund } token balansingizga qaytarildi.
btn-try-again = 🔁 Qayta urinish
btn-other-model = 🔀 Boshqa model

## Balans va to‘ldirish

balance-title = 💰 Balans: { $balance } token
balance-title-held = 💰 Balans: { $balance } token ({ $held } token bajarilayotgan generatsiya uchun band)
btn-topup = ⭐ To‘ldirish
btn-payments = 🧾 To‘lovlar
topup-title = ⭐ Paketni tanlang. To‘lov Telegram Stars orqali.
topup-terms = To‘lov qilib, /terms shartlariga rozilik bildirasiz.
topup-none = Hozir paketlar mavjud emas. Keyinroq urinib ko‘ring.
btn-package = ⭐ { $stars } → { $tokens } token
btn-package-bonus = ⭐ { $stars } → { $tokens } token (+{ $bonus }%)
invoice-title = BananaPics: { $tokens } token
invoice-description = BananaPics’da AI yordamida rasm yaratish uchun { $tokens } token. Tokenlar to‘lovdan so‘ng darhol balansingizga tushadi. Shartlar: /terms
invoice-label = { $tokens } token
precheckout-expired = Bu to‘lov hisobining muddati o‘tgan. “To‘ldirish”ni ochib, paketni qayta tanlang.
precheckout-paid = Bu to‘lov hisobi allaqachon to‘langan.
precheckout-mismatch = Bu to‘lov hisobi paketga mos kelmaydi. Paketni qayta tanlang.
precheckout-invalid = Bu to‘lov hisobi endi amal qilmaydi. Paketni qayta tanlang.
precheckout-banned = Hisobingiz bloklangan, shuning uchun to‘lov qabul qilinmaydi.
topup-thanks = ✅ +{ $tokens } token. Balans: { $balance }
topup-thanks-bonus = 🎁 Shundan { $bonus } token — bonus.
payment-refunded = ↩️ To‘lov qaytarildi: ⭐ { $stars }. Balansingizdan { $tokens } token yechildi. Balans: { $balance }
payments-title = 🧾 To‘lovlaringiz
payments-empty = Hali to‘lovlar yo‘q.
payments-item = { $date } · ⭐ { $stars } → { $tokens } token · { $status }
payment-status-paid = to‘langan
payment-status-refunded = qaytarilgan
payments-refund-howto = Yordam yoki pulni qaytarish kerakmi? /paysupport ga to‘lov sanasi va summasini yozing.

## Do‘stlarni taklif qilish

ref-title = 👥 Do‘stlarni taklif qilish
ref-link = Shaxsiy havolangiz:
ref-stats = Qo‘shilgan do‘stlar: { $friends } · olingan tokenlar: { $earned }
ref-rule-every = 🎁 Do‘stlaringizning har bir to‘ldirishidan { $percent }% olasiz.
ref-rule-first = 🎁 Do‘stingizning birinchi to‘ldirishidan { $percent }% olasiz.
ref-rule-off = Referal mukofotlari hozircha to‘xtatilgan.
btn-share = 📤 Ulashish
ref-share-text = 🍌 BananaPics’da AI yordamida rasm yarating
ref-cashback = 🎁 Do‘stingiz balansini to‘ldirdi: balansingizga +{ $tokens } token.
ref-friend-joined = 👋 { $name } havolangiz orqali qo‘shildi.
error-unknown-code = Bu taklif havolasi yaroqsiz.
error-self = O‘z taklif havolangizdan foydalana olmaysiz.
error-already-bound = Siz allaqachon boshqa taklif orqali qo‘shilgansiz.
error-too-late = Taklif havolalari faqat birinchi to‘ldirishdan oldin ishlaydi.
error-cycle = Bu havoladan foydalanib bo‘lmaydi: bu do‘stingiz siz orqali qo‘shilgan.
error-referral-rejected = Bu taklif havolasidan foydalanib bo‘lmaydi.

## Tarix

history-title = 🖼 Tarix · { $page }/{ $pages }-sahifa
history-empty = Hali rasmlar yo‘q. Birinchisini yaratish uchun 🎨 Rasm yaratish tugmasini bosing.
history-item = { $date } · { $model } · “{ $prompt }” · { $status } · { $cost }
btn-history-item = { $n }. { $date } · { $model }
job-status-queued = navbatda
job-status-running = yaratilmoqda
job-status-succeeded = tayyor
job-status-partial = qisman tayyor
job-status-failed = muvaffaqiyatsiz
history-detail-date = 🖼 { $date }
history-detail-status = Holat: { $status } · narx: { $cost } token
history-files-gone = Bu generatsiya fayllari endi saqlanmaydi.
btn-send-again = 📤 Qayta yuborish
btn-regenerate = 🔁 Qayta yaratish
btn-use-prompt = ✏️ Shu promptdan foydalanish

## Shablonlar va trend

templates-title = 🧩 Shablonlar. Kategoriyani tanlang:
templates-category = 🧩 { $category } · { $page }/{ $pages }
templates-empty = Bu yerda hali shablonlar yo‘q.
template-card = 🧩 { $title }
template-uses = { $count } marta ishlatilgan
template-applied = ✅ “{ $title }” shabloni qo‘llandi.
template-unavailable = Bu shablon endi mavjud emas.
btn-use = ✅ Ishlatish
trending-title = 🔥 Trendda: so‘nggi { $days } kunda eng ko‘p ishlatilganlar
trending-empty = Hozircha trendda hech narsa yo‘q.
btn-trending-item = { $n }. { $title }
btn-trending-pinned = 📌 { $title }

## Sozlamalar

settings-title =
    ⚙️ Sozlamalar
    Til: { $language }
    Standart model: { $model }
    Standart tomonlar nisbati: { $ratio }
btn-language = 🌐 Til
btn-default-model = 🎨 Standart model
btn-default-ratio = 📐 Tomonlar nisbati
settings-language-title = 🌐 Tilni tanlang:
settings-language-set = ✅ Til: O‘zbekcha
settings-model-title = 🎨 Standart modelni tanlang:
settings-model-set = ✅ Standart model: { $model }
settings-model-auto = Tavsiya etilgan
settings-ratio-title = 📐 Standart tomonlar nisbatini tanlang:
settings-ratio-set = ✅ Standart tomonlar nisbati: { $ratio }

## Yordam va qoidalar

help-text =
    ❓ Qanday ishlaydi
    1. 🎨 Rasm yaratish tugmasini bosing va model tanlang.
    2. Rasmni tasvirlab bering yoki shablon tanlang.
    3. Xohlasangiz, namuna rasmlar qo‘shing va sozlamalarni o‘zgartiring.
    4. Narxni tekshirib, tasdiqlang. Tokenlar band qilinadi va faqat yetkazilgan rasmlar uchun yechiladi; muvaffaqiyatsiz generatsiya tokenlari avtomatik qaytariladi.

    Tokenlar Telegram Stars orqali sotib olinadi: 💰 Balans → ⭐ To‘ldirish.
help-prices-title = 💲 Bitta rasm narxi:
help-price-line = • { $model } — { $price } tokendan
help-commands =
    Buyruqlar: /start menyu · /generate yangi rasm · /balance balans · /history rasmlarim · /settings til, standart model va tomonlar nisbati
    Qoidalar va yordam: /terms · /privacy · /paysupport · /support
btn-terms = 📄 Shartlar
btn-privacy = 🔒 Maxfiylik
btn-paysupport = 💳 To‘lov bo‘yicha yordam
btn-support = 💬 Yordam xizmati
terms-text =
    📄 Foydalanish shartlari

    1. BananaPics sizning tavsiflaringiz va rasmlaringiz asosida AI modellari yordamida rasm yaratadi.
    2. Generatsiyalar token bilan to‘lanadi. Tokenlar Telegram Stars orqali sotib olinadi; har bir so‘rov narxi tasdiqlashdan oldin ko‘rsatiladi.
    3. Token faqat yetkazilgan rasmlar uchun yechiladi. Generatsiya muvaffaqiyatsiz bo‘lsa, tokenlar balansingizga avtomatik qaytariladi.
    4. Noqonuniy kontent, boshqalarning huquqlarini buzadigan kontent yoki voyaga yetmaganlar ishtirokidagi jinsiy kontent so‘ramang. Modellar so‘rovni rad etishi mumkin; xizmatni suiiste’mol qilgan hisoblar bloklanishi mumkin.
    5. Faqat foydalanish huquqiga ega bo‘lgan rasmlaringizni yuboring.
    6. AI natijalari noaniq yoki kutilmagan bo‘lishi mumkin; ulardan foydalanish uchun o‘zingiz javobgarsiz.
    7. To‘lov muammolari va pulni qaytarish uchun /paysupport dan foydalaning. Qaytarishda o‘sha to‘lov tokenlari balansdan yechiladi; allaqachon sarflangan tokenlar qarzga aylanadi, uni keyingi to‘ldirish yopadi va shu paytgacha generatsiya to‘xtatiladi. Telegram yordam xizmati bu botdagi xaridlar bo‘yicha yordam bera olmaydi.
    8. Narxlar va ushbu shartlar o‘zgarishi mumkin; har doim tasdiqlashdan oldin ko‘rsatilgan narx amal qiladi.
privacy-text =
    🔒 Maxfiylik siyosati

    Biz saqlaymiz: Telegram ID, ism, username va tilingiz; tavsiflaringiz, namuna rasmlaringiz va natijalar (ularni yetkazish va tarixni ko‘rsatish uchun); to‘lovlaringiz va token amallari.
    Tavsiflaringiz va rasmlaringiz faqat rasm yaratish uchun siz tanlagan AI model provayderiga yuboriladi.
    Ma’lumotlaringizni sotmaymiz va reklama uchun bermaymiz. Rasmlar saqlash muddati tugagach o‘chiriladi.
    Ma’lumotlaringizni o‘chirish uchun /support ga yozing.
support-text =
    💬 Yordam xizmati
    Savolingizni { $contact } ga yozing. Nima bo‘lganini va qachon bo‘lganini tasvirlab bering.
    To‘lovlar va pulni qaytarish uchun /paysupport dan foydalaning. Telegram yordam xizmati bu botdagi xaridlar bo‘yicha yordam bera olmaydi.
paysupport-text =
    💳 To‘lov bo‘yicha yordam
    To‘lovda muammo bormi yoki pulni qaytarmoqchimisiz? { $contact } ga to‘lov sanasi va summasini yozing.
    Muvaffaqiyatsiz generatsiya uchun tokenlar avtomatik qaytariladi. Telegram yordam xizmati bu botdagi xaridlar bo‘yicha yordam bera olmaydi.
    Telegram Desktop’da to‘lov tugmasi ishlamasa, telefondagi Telegram ilovasidan to‘lang: Desktop ba’zan botlarning kichik Stars hisoblarini rad etadi.

## Xizmat xatolari (BananaError.code bo‘yicha)

error-not-found = Topilmadi. Ehtimol, o‘chirilgan.
error-invalid = Bu qiymat qabul qilinmaydi. Tekshirib, qayta urinib ko‘ring.
error-forbidden = Bunga ruxsatingiz yo‘q.
error-conflict = Bu allaqachon boshqa qiymatlar bilan bajarilgan.

## Admin panel

admin-title = 🛠 Admin panel
admin-forbidden = Rolingiz bunga ruxsat bermaydi.
admin-empty = Bu yerda hali hech narsa yo‘q.
btn-admin-users = 👤 Foydalanuvchilar
btn-admin-pricing = 💲 Narxlar
btn-admin-packages = 📦 Paketlar
btn-admin-referrals = 👥 Referallar
btn-admin-templates = 🧩 Shablonlar
btn-admin-transactions = 🧾 Tranzaksiyalar
btn-admin-system = 🛠 Tizim
btn-admin-log = 📜 Admin jurnali
btn-admin-home = 🛠 Admin panel
admin-ask-reason = ✍️ Sababini yozing (admin jurnalida saqlanadi).
admin-ask-amount = ✍️ Token miqdorini yuboring.
admin-ask-value = ✍️ { $field } uchun yangi qiymatni yuboring (hozir: { $current }).
admin-ask-search = ✍️ Qidirish uchun @username, Telegram ID yoki ism yuboring.
admin-invalid-number = Bu to‘g‘ri son emas. Butun son yuboring.
admin-confirm = ⚠️ Tasdiqlang: { $action }
admin-cancelled = Bekor qilindi. Hech narsa o‘zgarmadi.
admin-users-title = 👤 Foydalanuvchilar: { $count }
admin-users-none = Hech kim topilmadi.
admin-user-card =
    👤 { $name } · @{ $username } · ID { NUMBER($tg_id, useGrouping: 0) }
    Rol: { $role } · { $status }
    Balans: { $balance } (band: { $held })
    Qo‘shilgan: { $date } · generatsiyalar: { $jobs } · to‘lovlar: { $payments }
admin-user-active = faol
admin-user-banned = ⛔ bloklangan
role-user = Foydalanuvchi
role-support = Yordamchi
role-admin = Admin
btn-admin-ban = ⛔ Bloklash
btn-admin-unban = ✅ Blokdan chiqarish
btn-admin-grant = ➕ Token qo‘shish
btn-admin-deduct = ➖ Token ayirish
btn-admin-role = 🎭 Rol
btn-admin-user-jobs = 🖼 Generatsiyalar
btn-admin-user-payments = 🧾 To‘lovlar
admin-done-adjust = ✅ { $user }: { $delta } token, balans { $balance }, sabab: { $reason }
admin-done-ban = ✅ { $user } bloklandi. Sabab: { $reason }
admin-done-unban = ✅ { $user } blokdan chiqarildi. Sabab: { $reason }
admin-done-role = ✅ { $user }: rol { $role }
admin-pricing-title = 💲 Modellar va narxlar
btn-admin-model = { $status } { $name } · { $price }
admin-model-card =
    🎨 { $name } ({ $model })
    Holat: { $status }
    Asosiy narx: bitta rasm uchun { $base } token
    Qo‘shimchalar: { $extras }
    { $max_refs } tagacha namuna rasm, { $max_count } tagacha rasm
admin-model-on = ✅ yoqilgan
admin-model-off = ⛔ o‘chirilgan
admin-model-default = ⭐ standart
btn-admin-model-enable = ✅ Yoqish
btn-admin-model-disable = ⛔ O‘chirish
btn-admin-model-default = ⭐ Standart qilish
btn-admin-price-base = 💲 Asosiy narx
btn-admin-price-resolution = 🖥 O‘lcham narxlari
btn-admin-price-quality = ✨ Sifat narxlari
btn-admin-price-refs = 🖼 Namuna rasm narxi
btn-admin-limit-refs = 🖼 Maks. namuna rasmlar
btn-admin-limit-count = 🔢 Maks. rasmlar soni
admin-packages-title = 📦 To‘ldirish paketlari
btn-admin-package = { $status } ⭐ { $stars } → { $tokens } (+{ $bonus }%)
btn-admin-package-on = ✅ Faollashtirish
btn-admin-package-off = ⛔ O‘chirish
btn-admin-package-add = ➕ Yangi paket
btn-admin-package-stars = ⭐ Stars
btn-admin-package-tokens = 🪙 Tokenlar
btn-admin-package-bonus = 🎁 Bonus %
btn-admin-package-sort = ↕️ Tartib
admin-package-ask = ✍️ Yuboring: stars token bonus%, masalan “250 500 10”.
admin-referrals-title =
    👥 Referal qoidasi
    Keshbek: { $percent }% · qachon: { $mode }
    Taklif qilinganlar: { $users } · to‘langan: { $paid } token
referral-mode-every = har bir to‘ldirishda
referral-mode-first = faqat birinchi to‘ldirishda
btn-admin-ref-percent = ✏️ Foizni o‘zgartirish
btn-admin-ref-every = 🔁 Har bir to‘ldirish
btn-admin-ref-first = 1️⃣ Faqat birinchi to‘ldirish
admin-templates-title = 🧩 Shablonlar: { $count }
btn-admin-template = { $status } { $title }
btn-admin-template-add = ➕ Yangi shablon
btn-admin-template-on = ✅ Ko‘rsatish
btn-admin-template-off = ⛔ Yashirish
btn-admin-template-pin = 📌 Qadash
btn-admin-template-unpin = 📍 Qadashni olib tashlash
btn-admin-template-delete = 🗑 O‘chirish
admin-transactions-title = 🧾 To‘lovlar · { $page }/{ $pages }-sahifa
admin-tx-line = { $date } · { $user } · ⭐ { $stars } → { $tokens } · { $status }
btn-admin-refund = ↩️ Qaytarish
admin-refund-confirm = { $user } ga ⭐ { $stars } qaytarilsinmi? Uning balansidan { $tokens } token yechiladi.
admin-refund-done = ✅ { $user } ga ⭐ { $stars } qaytarildi. Sabab: { $reason }
admin-refund-failed = ❌ Telegram qaytarishni rad etdi: { $error }
admin-system-title = 🛠 Tizim
admin-queue = Navbat: { $queued } kutmoqda, { $running } bajarilmoqda
admin-provider-ok = ✅ { $provider } · { $latency } ms
admin-provider-fail = ❌ { $provider }: { $error }
admin-provider-nokey = ⚪ { $provider }: kalit yo‘q
admin-setting-line = { $key } = { $value }
btn-admin-check = 🔌 Provayderlarni tekshirish
btn-admin-setting = ✏️ { $key }
admin-log-title = 📜 Admin jurnali · { $page }/{ $pages }-sahifa
admin-log-line = { $date } · { $actor } · { $action } · { $target }
