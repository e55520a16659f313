## Admin panel: pricing, packages, referrals, templates, system

adm-on = yoqilgan
adm-off = o‘chirilgan
adm-bad-empty = ⚠️ Matn yuboring.
adm-bad-model = ⚠️ Bunday model yo‘q. Ko‘rsatilgan id lardan birini yoki modelsiz uchun - yuboring.
adm-bad-settings = ⚠️ Sozlamalarni kalit=qiymat ko‘rinishida yozing, masalan aspect_ratio=16:9 resolution=2K count=2, yoki sozlamasiz uchun -.
adm-bad-slug = ⚠️ Id 1–32 belgi: a-z, 0-9, - va _.
adm-bad-photo = ⚠️ Namunani rasm sifatida yuboring (yoki JPEG, PNG, WEBP fayl).
adm-done-moved = ✅ Ko‘chirildi.
btn-adm-up = ⬆️
btn-adm-down = ⬇️

# models and prices
adm-models-title = 💲 Modellar va narxlar (bir rasm uchun token). ⭐ = asosiy model.
btn-adm-model-row = { $state } { $name } · { $price }{ $default }
btn-adm-packages = 📦 Stars paketlari
adm-model-head = 💲 { $name } ({ $id }) · { $state } { $default }
adm-model-default = · ⭐ asosiy
adm-model-base = Asosiy narx: bir rasm uchun { $price } token
adm-model-extra-resolution = O‘lcham ustamalari: { $extras }
adm-model-extra-quality = Sifat ustamalari: { $extras }
adm-model-per-ref = Har bir namuna rasm uchun: +{ $price }
adm-model-limits = Cheklovlar: { $refs } tagacha namuna rasm, so‘rovda { $count } tagacha rasm
adm-model-example = Misol, { $what }: { $explain } token
adm-model-example-default = 1 rasm, standart sozlamalar
btn-adm-model-off = ⛔ O‘chirish
btn-adm-model-on = ✅ Yoqish
btn-adm-model-default = ⭐ Asosiy qilish
btn-adm-model-base = 💰 Asosiy narx
btn-adm-model-ref = 🖼 Namuna uchun
btn-adm-model-extra = + { $option }
btn-adm-model-maxrefs = 📎 Maks. namuna
btn-adm-model-maxcount = 🔢 Maks. rasm
adm-model-field-base = asosiy narx
adm-model-field-ref = namuna rasm narxi
adm-model-field-maxrefs = maks. namuna rasmlar
adm-model-field-maxcount = so‘rovdagi maks. rasmlar
adm-model-field-resolution = { $option } ustamasi
adm-model-field-quality = { $option } sifat ustamasi
adm-ask-model-value = ✍️ { $name }: yangi { $what }? Hozir: { $current }.
adm-done-model-edit = ✅ { $name }: { $what } { $before } → { $after }.
adm-done-model-on = ✅ { $name } yoqildi: foydalanuvchilar uni yana tanlay oladi.
adm-done-model-default = ✅ Endi { $name } asosiy model.
adm-model-off-ask = ⛔ { $name } o‘chirilsinmi? Yangi so‘rovlar uni darhol ishlata olmaydi. Navbatda: { $queued }.
btn-adm-model-off-keep = ⛔ O‘chirish, navbatdagilar bajarilsin
btn-adm-model-off-refund = ⛔ O‘chirish va navbatdagi { $count } tasini qaytarish
adm-effect-model-off = { $name } ni o‘chirish. Navbatdagi generatsiyalar baribir bajariladi.
adm-effect-model-off-refund = { $name } ni o‘chirish va navbatdagi { $queued } ta generatsiya tokenlarini qaytarish (foydalanuvchilarga xabar beriladi).
adm-done-model-off = ✅ { $name } o‘chirildi. Qaytarilgan generatsiyalar: { $refunded }.

# packages
adm-pkgs-title = 📦 Stars paketlari, foydalanuvchilar ko‘radigan tartibda
btn-adm-pkg-row = { $state } ⭐ { $stars } → { $tokens } +{ $bonus }%
btn-adm-pkg-add = ➕ Yangi paket
adm-pkg =
    📦 Paket #{ $id } · { $state }
    ⭐ { $stars } → { $tokens } token + { $bonus }% bonus ({ $bonus_tokens })
adm-pkg-on = sotuvda
adm-pkg-off = sotuvda emas
btn-adm-pkg-stars = ⭐ Stars
btn-adm-pkg-tokens = 🪙 Tokenlar
btn-adm-pkg-bonus = 🎁 Bonus %
btn-adm-pkg-off = ⛔ Sotuvdan olish
btn-adm-pkg-on = ✅ Sotuvga chiqarish
adm-pkg-term-stars = Stars narxi
adm-pkg-term-tokens = tokenlar
adm-pkg-term-bonus = bonus %
adm-ask-pkg-value = ✍️ Yangi { $what }? Hozir: { $current }.
adm-done-pkg-edit = ✅ Paket: { $what } { $before } → { $after }. Yuborilgan hisoblar o‘z shartlarini saqlaydi.
adm-done-pkg-on = ✅ ⭐ { $stars } paketi sotuvda.
adm-done-pkg-off = ✅ ⭐ { $stars } paketi sotuvdan olindi.
adm-ask-pkg-stars = ✍️ Yangi paket: Stars narxi?
adm-ask-pkg-tokens = ✍️ U nechta token beradi?
adm-ask-pkg-bonus = ✍️ Bonus % (bonussiz uchun 0)?
adm-effect-pkg-add = paket qo‘shish: ⭐ { $stars } → { $tokens } token + { $bonus }% ({ $bonus_tokens } bonus), sotuvda.
adm-done-pkg-add = ✅ Yangi paket ⭐ { $stars } → { $tokens } token + { $bonus }%.

# referrals
adm-refs-title = 👥 Referal dasturi
adm-refs-rule = Dastur: { $state } · { $mode } { $percent }% keshbek
adm-refs-mode-every = har bir to‘ldirishdan
adm-refs-mode-first = faqat birinchi to‘ldirishdan
adm-refs-paid = To‘langan keshbek: 7 kunda { $week } token · 30 kunda { $month }
adm-refs-top = Eng yaxshi taklif qiluvchilar (30 kun):
adm-refs-top-row = { $n }. { $user } · { $friends } do‘st · { $week } / { $month } token (7 / 30 kun)
adm-refs-top-none = Oxirgi 30 kunda keshbek to‘lanmagan.
btn-adm-refs-pct = ✏️ Foiz
btn-adm-refs-off = ⛔ O‘chirish
btn-adm-refs-on = ✅ Yoqish
btn-adm-refs-mode-every = { $mark }Har bir to‘ldirish
btn-adm-refs-mode-first = { $mark }Faqat birinchisi
adm-ask-refs-pct = ✍️ Keshbek foizi (0–100)? Hozir: { $current }.
adm-done-refs-pct = ✅ Keshbek { $before }% → { $after }%.
adm-done-refs-mode = ✅ Keshbek { $mode } to‘lanadi.
adm-done-refs-on = ✅ Referal dasturi yoqildi.
adm-done-refs-off = ✅ Referal dasturi o‘chirildi: havolalar hech kimni bog‘lamaydi, to‘ldirishlar keshbek bermaydi.

# templates
adm-tpls-title = 🧩 Shablonlar (👁 ko‘rinadi · 🙈 yashirin · 📌 trendga qadalgan; trend { $days } kun bo‘yicha)
btn-adm-tpl-row = { $state }{ $pin } { $title } · { $uses }
btn-adm-tpl-add = ➕ Yangi shablon
btn-adm-tpl-cats = 🗂 Bo‘limlar
btn-adm-trending-days = 🔥 Trend oynasi: { $days } kun
adm-tpl-head = 🧩 #{ $id } { $title } · { $state } { $pin } · { $uses } marta ishlatilgan
adm-tpl-meta = Bo‘lim: { $category } · model: { $model } · sozlamalar: { $settings }
adm-tpl-shown = ko‘rinadi
adm-tpl-hidden = yashirin
adm-tpl-pinned = · 📌 qadalgan
btn-adm-tpl-hide = 🙈 Yashirish
btn-adm-tpl-show = 👁 Ko‘rsatish
btn-adm-tpl-pin = 📌 Qadash
btn-adm-tpl-unpin = 📍 Ajratish
btn-adm-tpl-titles = ✏️ Nomlar
btn-adm-tpl-prompts = ✏️ Promptlar
btn-adm-tpl-model = 🤖 Model
btn-adm-tpl-settings = ⚙️ Sozlamalar
btn-adm-tpl-photo = 🖼 Namuna rasm
btn-adm-tpl-delete = 🗑 O‘chirish
adm-done-tpl-toggle = ✅ { $title }: { $on ->
        [1] foydalanuvchilarga ko‘rinadi
       *[0] foydalanuvchilardan yashirildi
    }.
adm-done-tpl-pin = ✅ { $title }: { $on ->
        [1] trendga qadaldi
       *[0] ajratildi
    }.
adm-tpl-pick-cat = 🧩 Yangi shablon: qaysi bo‘limga?
btn-adm-tpl-cat-row = { $name } · { $count }
adm-ask-tpl-title = ✍️ { $language } tilidagi nomi (64 belgigacha)?
adm-ask-tpl-prompt = ✍️ { $language } tilidagi prompt?
adm-ask-tpl-model = ✍️ Standart model id ({ $models }) yoki foydalanuvchi modeli uchun -?
adm-ask-tpl-settings = ✍️ Standart sozlamalar, masalan aspect_ratio=16:9 resolution=2K, yoki sozlamasiz uchun -?
adm-effect-tpl-add = «{ $title }» shablonini { $category } bo‘limiga qo‘shish: model { $model }, sozlamalar { $settings }. Foydalanuvchilar darhol ko‘radi.
adm-done-tpl-add = ✅ #{ $id } «{ $title }» shabloni yaratildi. Namuna rasm qo‘shish uchun uni oching.
adm-done-tpl-edit = ✅ { $title }: saqlandi.
adm-ask-tpl-photo = 🖼 Namuna rasmni foto sifatida yuboring.
adm-done-tpl-photo = ✅ Namuna rasm saqlandi.
adm-effect-tpl-delete = «{ $title }» shablonini va uning { $uses } ta ishlatilishini o‘chirish. Sabab: { $reason }. Yashirish ularni saqlab qolardi.
adm-done-tpl-delete = ✅ «{ $title }» shabloni o‘chirildi.
adm-cats-title = 🗂 Shablon bo‘limlari (har biridagi shablonlar)
btn-adm-cat-add = ➕ Yangi bo‘lim
adm-ask-cat-slug = ✍️ Bo‘lim id si (a-z, 0-9, - va _; o‘zgarmaydi)?
adm-ask-cat-name = ✍️ Bo‘limning { $language } tilidagi nomi?
adm-done-cat = ✅ { $slug } bo‘limi: «{ $name }».

# system
adm-sys-title = 🛠 Tizim
adm-sys-queue = Navbat: { $queued } kutmoqda, { $running } bajarilmoqda · oxirgi soat: { $submitted } yuborilgan, { $ok } muvaffaqiyatli, { $failed } xato
adm-sys-worker = Worker { $id } { $state } { $ago } s oldin ko‘rilgan
adm-sys-no-workers = ⚠️ Workerlardan signal yo‘q.
adm-sys-providers = Provayderlar:
adm-sys-provider = • { $name }: kalit { $keystate } · oxirgi muvaffaqiyat { $ok } · oxirgi xato { $error } · kechikish { $latency } s
adm-key-configured = sozlangan
adm-key-missing = ⚠️ yo‘q
adm-key-not-needed = kerak emas
adm-key-unknown = noma’lum
adm-sys-models = Modellar:
adm-sys-model = • { $state } { $name } ({ $provider }): saqlagich { $breaker }, { $failures } xato · { $running }/{ $cap } bajarilmoqda · navbatda { $queued }
adm-breaker-closed = yopiq
adm-breaker-open = ⚠️ ochiq
adm-breaker-half_open = yarim ochiq (sinov)
adm-breaker-until = { $until } UTC gacha
adm-sys-features = Funksiyalar: shablonlar { $templates } · referallar { $referrals } · to‘ldirish { $topups }
adm-sys-maintenance = Texnik ishlar rejimi: { $state }
adm-sys-maintenance-msg = Foydalanuvchilar ko‘radi: { $text }
adm-sys-limits = Foydalanuvchiga cheklovlar: daqiqada { $per_min } amal, portlash { $burst }, { $parallel } parallel vazifa · modelga: bir vaqtda { $cap }
btn-adm-sys-model = { $state } { $name }
btn-adm-feature-templates = { $state } Shablonlar
btn-adm-feature-referrals = { $state } Referallar
btn-adm-feature-topups = { $state } To‘ldirish
adm-feature-templates = Shablonlar
adm-feature-referrals = Referallar
adm-feature-topups = To‘ldirish
adm-done-feature = ✅ { $feature }: { $state }.
btn-adm-maint-on = 🛠 Texnik ishlarni yoqish
btn-adm-maint-off = ✅ Texnik ishlarni o‘chirish
adm-ask-maint-msg = ✍️ Texnik ishlar paytida foydalanuvchilar oladigan xabar (yoki standart uchun -)?
adm-effect-maint-on = texnik ishlar rejimini YOQISH. Foydalanuvchilar ko‘radi: «{ $text }». Adminlar va yordam xizmati o‘tadi.
adm-done-maint-on = ✅ Texnik ishlar rejimi yoqildi.
adm-done-maint-off = ✅ Texnik ishlar rejimi o‘chirildi.
btn-adm-user_actions_per_min = ⏱ Amal/daqiqa
btn-adm-user_burst = 💥 Portlash
btn-adm-user_parallel_jobs = 🧵 Parallel
btn-adm-model_concurrency = 🔀 Modelga
btn-adm-refresh = 🔄 Yangilash
adm-setting-limits-user_actions_per_min = foydalanuvchining daqiqadagi xabar va bosishlari
adm-setting-limits-user_burst = foydalanuvchi portlashi
adm-setting-limits-user_parallel_jobs = foydalanuvchining parallel generatsiyalari
adm-setting-limits-model_concurrency = modelga bir vaqtdagi provayder chaqiruvlari
adm-setting-trending-days = trend oynasi (kun)
adm-ask-setting = ✍️ { $what } uchun yangi qiymat ({ $min }–{ $max })? Hozir: { $current }.
adm-done-setting = ✅ { $what }: { $before } → { $after }. Barcha jarayonlar bir necha soniyada qabul qiladi.
btn-adm-model-conc = ⚙️ Parallel so‘rovlar
adm-model-field-conc = parallel so‘rovlar (0 = umumiy limit)
