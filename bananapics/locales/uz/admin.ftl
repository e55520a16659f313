# Texts the admin service layer needs users to see (maintenance mode, switched-off features and models).
maintenance-default = 🛠 Botda texnik ishlar olib borilmoqda. Birozdan keyin qaytib keling.
error-feature-off = Bu funksiya hozir o‘chirilgan.
fail-model-disabled = So‘rovingiz boshlanishidan oldin bu model o‘chirildi. Boshqa modelni tanlang.
