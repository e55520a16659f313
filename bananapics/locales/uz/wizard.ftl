# Generatsiya ustasi: sozlamalar, namuna rasmlar, jarayon va natijalar (bananapics/bot/wizard.py,
# options.py, references.py, progress.py, results.py). Kalitlar va $o‘zgaruvchilar ru/en bilan bir xil.

## tavsif

gen-prompt-current = Hozirgi tavsif: “{ $prompt }”. Almashtirish uchun yangisini yuboring.
btn-keep-prompt = ▶ Shu qolsin
gen-prompt-updated = ✅ Tavsif yangilandi.

## namuna rasmlar

btn-refs-remove-last = ↩️ Oxirgisini olib tashlash
gen-refs-removed = Oxirgi rasm olib tashlandi.
gen-refs-kept = ⚠️ { $asked } ta rasmdan { $count } tasi qo‘shildi: { $model } ko‘pi bilan { $max } ta rasm qabul qiladi. Qolganlari qo‘shilmadi.
gen-refs-full = ⚠️ { $model } ko‘pi bilan { $max } ta rasm qabul qiladi va siz hammasini qo‘shib bo‘ldingiz. Yangi rasm qo‘shilmadi: avval ba’zilarini olib tashlang.
error-too-many-refs = { $model } ko‘pi bilan { $max } ta namuna rasm qabul qiladi. Ortiqchasini olib tashlab, qayta urinib ko‘ring.

## sozlamalar

btn-settings-next = ✅ Davom etish — { $price } token
btn-option-price = { $value } · { $price }
error-count-out-of-range = { $model } bir so‘rovda 1 tadan { $max } tagacha rasm yaratadi. Boshqa sonni tanlang.

## jarayon va natijalar

btn-refresh = 🔄 Yangilash
progress-done = ✅ Tayyor: { $count } ta rasm — ularni shu chatda pastda ko‘ring.
gen-other-model = 🔀 Tavsif o‘sha. Boshqa modelni tanlang:
