# BananaPicsBot — o‘zbekcha: profil, tarix tafsilotlari, shablonlar va trendlar.
# Kalitlar va $placeholder'lar ru/content.ftl va en/content.ftl bilan bir xil bo‘lishi kerak (tests/test_i18n.py tekshiradi).

## Profil

cmd-profile = Profilim va statistika
btn-profile = 👤 Profil
profile-title = 👤 Profilingiz
profile-id = ID: { NUMBER($tg_id, useGrouping: 0) } · til: { $language }
profile-balance = 💰 Balans: { $balance } token · band qilingan: { $held }
profile-generations = 🎨 Generatsiyalar: { $jobs } · rasmlar: { $count } · sarflangan: { $total } token
profile-referrals = 👥 Taklif qilingan do‘stlar: { $friends } · olingan tokenlar: { $earned }

## Tarix tafsilotlari

history-detail-images = Rasmlar: { $count }
history-ref-gone = Bu generatsiyaning namuna fotosi endi saqlanmaydi. ✏️ Shu promptdan foydalanish tugmasini bosing va fotoni qayta yuboring.
toast-history-resent = 📤 Rasmlar qayta yuborilmoqda…
toast-history-resend-busy = ⏳ Ular allaqachon yo‘lda.
history-regen-note = 🔁 Xuddi shu so‘rov yana bir bor. Narxni tekshiring va tasdiqlang.
history-reuse-note = ✏️ Prompt nusxalandi: “{ $prompt }”
    Uni almashtirish uchun yangi tavsif yuboring yoki davom eting.

## Shablonlar va trendlar

btn-template-category = { $category } · { $count }
template-category-page = { $category } · { $page }/{ $pages }
template-model = Model: { $model } · { $price } token
template-share-text = 🧩 Bu shablonni BananaPics’da sinab ko‘ring
trending-line = { $n }. { $title } · { $count } marta
trending-pinned-line = 📌 { $title }{ $count ->
    [0] {""}
   *[other] {" · "}{ $count } marta
}
list-page = { $page }/{ $pages }-sahifa
history-resent-done = 📤 Qayta yuborildi: { $count } ta rasm, to‘liq sifatdagi fayllar yuqorida. Hech narsa yechilmadi.
