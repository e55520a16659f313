## Balans, to‘ldirish, to‘lovlar va /paysupport (bananapics/bot/payments.py)

balance-debt = ⚠️ Qarz: { $debt } token. Qaytarilgan to‘lov siz allaqachon sarflagan tokenlarni qaytarib oldi. Keyingi to‘ldirish avval qarzni yopadi; shu paytgacha generatsiya to‘xtatilgan.
btn-pay = To‘lash ⭐ { $stars }
btn-packages = ◀ Paketlar
invoice-sent = ⬇️ To‘lov hisobingiz pastda: ⭐ { $stars } → { $tokens } token. Uni { $minutes } daqiqa ichida to‘lang.
topup-debt-repaid = ↩️ Shundan { $repaid } token qarzingizni yopishga ketdi.
payment-unmatched = ⚠️ Telegram ⭐ { $stars } to‘lovingizni qabul qildi, lekin u hech bir to‘lov hisobingizga mos kelmadi. /paysupport ga yozing va ushbu to‘lov identifikatorini ko‘rsating — tokenlarni beramiz yoki pulni qaytaramiz: { $charge }
payment-refunded-debt = ⚠️ Bu tokenlardan { $debt } tasi allaqachon sarflangan edi, endi ular qarz hisoblanadi. Keyingi to‘ldirish qarzni yopadi; shu paytgacha generatsiya to‘xtatiladi.
error-in-debt = ⚠️ Qaytarilgan to‘lov tufayli balansingizda qarz bor. Qarzni yopish uchun balansni to‘ldiring, so‘ng qayta urinib ko‘ring: 💰 Balans.
error-package-gone = Bu paket endi sotilmaydi. Boshqasini tanlang.
payments-title-page = 🧾 To‘lovlaringiz · { $page }/{ $pages }-sahifa
btn-payment = { $date } · ⭐ { $stars } · { $status }
payment-title = 🧾 To‘lov: { $date }
payment-detail-stars = ⭐ { $stars } → { $tokens } token
payment-detail-bonus = 🎁 Shundan bonus: { $bonus } token
payment-detail-status = Holati: { $status }
payment-detail-charge = To‘lov identifikatori (yordam xizmatiga yuboring): { $charge }
payment-detail-debt = Qaytarishdan keyin qolgan qarz: { $debt } token
paysupport-recent = So‘nggi to‘lovlaringiz:
paysupport-charge-hint = Yozganingizda 🧾 To‘lovlar bo‘limidagi to‘lov identifikatorini ko‘rsating — to‘lovingizni darhol topamiz.
ref-cashback-reversed = ↩️ Siz taklif qilgan do‘stingizning to‘lovi qaytarildi, shuning uchun undan olingan { $tokens } token keshbek qaytarib olindi. Balans: { $balance }
error-cashback-locked = ⏳ Hozir tokenlaringizdan faqat { $available } tasini sarflash mumkin: referal keshbek do‘stingiz balansini to‘ldirganidan bir necha kun o‘tib ishlatiladi. Bu generatsiya narxi { $needed } token.
