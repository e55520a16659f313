# Texts the admin service layer needs users to see (maintenance mode, switched-off features and models).
maintenance-default = 🛠 Botda texnik ishlar olib borilmoqda. Birozdan keyin qaytib keling.
error-feature-off = Bu funksiya hozir o‘chirilgan.
fail-model-disabled = So‘rovingiz boshlanishidan oldin bu model o‘chirildi. Boshqa modelni tanlang.

## Admin panel: the kit (typed values, confirmations, pages)

adm-bad-number = ⚠️ Bu son emas. Faqat raqam yuboring, masalan 50.
adm-bad-negative = ⚠️ Son manfiy bo‘lishi mumkin emas. { $min } yoki ko‘proq yuboring.
adm-bad-too-small = ⚠️ Juda kam. { $min } yoki ko‘proq yuboring.
adm-bad-zero = ⚠️ Nol hech narsani o‘zgartirmaydi. 0 dan katta son yuboring.
adm-bad-too-big = ⚠️ Juda katta. Eng ko‘pi { $max }.
adm-bad-too-long = ⚠️ Juda uzun. Ko‘pi bilan { $limit } belgi yuboring.
adm-bad-reason = ⚠️ Qisqa sababni so‘z bilan yozing (u jurnalga yoziladi).
adm-bad-reason-long = ⚠️ Sabab juda uzun. { $limit } belgidan oshmasin.
adm-bad-query = ⚠️ Qidirish uchun matn yuboring.
adm-failed = ⚠️ Bajarilmadi: { $error }
adm-press-yes-no = Pastdagi ✅ Ha yoki ✖ Yo‘q tugmasini bosing.
btn-adm-yes = ✅ Ha
btn-adm-no = ✖ Yo‘q
adm-page-of = { $total } tadan { $first }–{ $last }
adm-section-soon = Bu bo‘lim hali tayyor emas.

## Admin panel: home

adm-glance = Bugun: { $users } yangi foydalanuvchi · generatsiyalar { $ok } muvaffaqiyatli / { $failed } xato
    ⭐ { $stars } tushdi · { $tokens } token sotildi
    Navbat: { $queued } kutmoqda, { $running } bajarilmoqda
adm-glance-providers = Ishlayotgan provayderlar: { $up } · ishlamayotgan: { $down }

## Admin panel: users

adm-users-newest = 👤 Yangi foydalanuvchilar
adm-users-found = 🔎 Qidiruv: { $query }
admin-ask-search-all = ✍️ Telegram id, @username, ism, to‘lov id yoki taklif kodini yuboring.
btn-adm-user-row = { $status } { $name } · { $balance }
btn-adm-search = 🔎 Qidirish
btn-adm-all-users = 👥 Hamma foydalanuvchilar
adm-card =
    👤 { $name } · @{ $username } · id { NUMBER($tg_id, useGrouping: 0) }
    Rol: { $role } · { $status }
    Balans: { $balance } · band { $held } · qarz { $debt }
    Taklif qilgan: { $referrer } · do‘stlar: { $friends }
    Sarflangan: { $spent } token · generatsiyalar: { $jobs }
    To‘lovlar: { $payments } (⭐ { $stars }) · { $date } dan beri
adm-card-ban-reason = Bloklash sababi: { $reason }
adm-effect-ban = { $user } ni bloklash. Sabab: { $reason }. Foydalanuvchiga bir marta xabar boradi.
adm-effect-unban = { $user } ni blokdan chiqarish. Sabab: { $reason }. Foydalanuvchiga bir marta xabar boradi.
adm-ask-adjust = ✍️ Necha token? { $user } da hozir { $balance }.
adm-effect-adjust = { $user }: { $delta } token, balans { $before } → { $after }. Sabab: { $reason }. Foydalanuvchiga xabar boradi.
adm-effect-role = { $user }: rol { $old } → { $new }.
adm-role-pick = 🎭 { $user } — { $role }. Yangi rol:
btn-adm-role-user = 👤 Foydalanuvchi
btn-adm-role-support = 🛟 Yordamchi
btn-adm-role-admin = 🛠 Admin
adm-user-jobs = 🖼 { $user } generatsiyalari
adm-user-payments = 🧾 { $user } to‘lovlari
btn-adm-job-row = { $status } { $date } · { $model } · { $cost }
btn-adm-pay-row = { $status } { $date } · ⭐ { $stars } → { $tokens }
adm-job =
    🖼 { $status } · { $model } · { $cost } token
    Foydalanuvchi: { $user } · { $date }
    Urinishlar: { $max } tadan { $attempts } · oxirgi xato: { $error }
    So‘rov: { $prompt }
btn-adm-job-retry = 🔁 Hozir qaytadan
btn-adm-job-refund = ↩️ Tokenlarni qaytarish
adm-done-retry = ✅ Yana navbatda.
adm-effect-job-refund = { $user } ning bu generatsiyasini to‘xtatib, { $tokens } token qaytarish. Sabab: { $reason }.
adm-done-job-refund = ✅ To‘xtatildi; { $tokens } token qaytarildi. Foydalanuvchiga xabar boradi.
adm-notice-banned = ⛔ Botdan foydalanishingiz bloklandi. Sabab: { $reason }
adm-notice-unbanned = ✅ Botdan foydalanishingiz tiklandi. Xush kelibsiz!
adm-notice-adjusted = 🪙 Balansingiz tuzatildi: { $delta } token ({ $reason }). Balans: { $balance }.

## Admin panel: transactions

adm-payments-title = 🧾 To‘lovlar · { $period }
adm-period-all = hamma vaqt
adm-period-day = oxirgi 24 soat
adm-period-week = oxirgi 7 kun
btn-adm-period-all = Hammasi
btn-adm-period-day = 24 soat
btn-adm-period-week = 7 kun
adm-filter-user = Foydalanuvchi: { $user }
btn-adm-filter-user = 👤 Foydalanuvchi bo‘yicha
btn-adm-transfers = 📒 O‘tkazmalar
btn-adm-jobs-queued = ⏳ Navbatda
btn-adm-jobs-running = ⚙️ Bajarilmoqda
btn-adm-jobs-failed = ❌ Xato bilan
adm-ask-tg-id = ✍️ Foydalanuvchining Telegram id sini yuboring (son).
adm-payment =
    ⭐ { $stars } → { $tokens } token + { $bonus } bonus · { $status }
    To‘lovchi: { $user } · { $date }
    To‘lov: { $charge }
adm-payment-paid = to‘langan
adm-payment-refunded = ↩️ qaytarilgan
adm-payment-refund-info = { $actor } qaytardi: { $reason } · qolgan qarz: { $debt }
adm-transfers-title = O‘tkazmalar:
btn-adm-refund = ↩️ Stars qaytarish
adm-effect-refund = { $user } ga ⭐ { $stars } qaytarish: −{ $tokens } token. Sabab: { $reason }.
adm-effect-refund-cashback = { $user } dan −{ $tokens } keshbek.
adm-effect-refund-debt = Bir qismi sarflangan: { $debt } token qarzga aylanadi.
adm-done-refund = ✅ { $user } ga ⭐ { $stars } qaytarildi: −{ $tokens } token, −{ $cashback } keshbek, qarz { $debt }.
adm-transfers-list = 📒 O‘tkazmalar · { $period }
adm-jobs-queued = ⏳ Navbatdagi generatsiyalar
adm-jobs-running = ⚙️ Bajarilayotgan generatsiyalar
adm-jobs-failed = ❌ Xato bilan tugagan generatsiyalar

## Admin panel: admin log

adm-log-title = 📜 Amallar jurnali
adm-log-filter = Filtr: { $filter }
adm-log-reason = sabab: { $reason }
btn-adm-log-filter = 🔎 Filtr
btn-adm-log-all = 📜 Hammasi
adm-ask-log-filter = ✍️ Kim (tg:123, cli:alice) yoki nima (user:123, Telegram id, charge:…, job:…) ekanini yuboring.
adm-transfers-kind = Turi: { $kind }
btn-adm-tkind = { $mark }{ $kind }
