# What users see while an admin has a feature switched off (services.toggles).
topup-off = ⏸ Пополнение сейчас приостановлено. Попробуйте позже. Уже полученный счёт можно оплатить.
ref-off = ⏸ Приглашения сейчас отключены: ссылки никого не привязывают и бонусы не начисляются.
