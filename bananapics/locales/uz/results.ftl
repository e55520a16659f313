## Yuborilishidan oldin saqlash joyidan yo‘qolgan natija rasmlari

result-lost = ⚠️ { $count } ta rasmni yetkazib bo‘lmadi. /support ga yozing — hal qilamiz.
