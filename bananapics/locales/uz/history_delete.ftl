## Generatsiyani tarixdan o‘chirish

btn-history-delete = 🗑 Tarixdan o‘chirish
btn-history-delete-yes = 🗑 Ha, o‘chirilsin
history-delete-ask = 🗑 Bu generatsiya tarixingizdan o‘chirilsinmi? Uning rasmlari va namuna rasmlari bizning xotiramizdan o‘chiriladi; shu chatga yuborilgan rasmlar qoladi. Buni qaytarib bo‘lmaydi.
toast-history-deleted = 🗑 Tarixdan o‘chirildi.
error-job-running = Bu generatsiya hali bajarilmoqda. Tugashini kuting.
