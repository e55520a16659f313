## Настройки: свои значения по умолчанию (модель, соотношение сторон)

settings-model-recommended = { $model } (рекомендуемая)
settings-ratio-auto = Как у модели
settings-model-follow = ⭐ Всегда рекомендуемая (сейчас { $model })
