## QA fixes of the generate flow

error-unknown-command = 🤔 Bunday buyruq yoʻq. Rasmni tasvirlash uchun matnni «/» belgisisiz yuboring yoki quyidagi tugmalardan foydalaning.
