# Texts the admin service layer needs users to see (maintenance mode, switched-off features and models).
maintenance-default = 🛠 Бот на техническом обслуживании. Загляните чуть позже.
error-feature-off = Эта функция сейчас отключена.
fail-model-disabled = Эту модель отключили до начала вашего запроса. Выберите другую модель.
