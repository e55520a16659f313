## Sozlamalar: foydalanuvchining o‘z standartlari (model, tomonlar nisbati)

settings-model-recommended = { $model } (tavsiya etilgan)
settings-ratio-auto = Model standarti
settings-model-follow = ⭐ Doim tavsiya etilgani (hozir { $model })
