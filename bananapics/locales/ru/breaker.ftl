# The per-model circuit breaker (services.breaker): a model whose provider keeps failing.
btn-model-unavailable = ⏳ { $name } · временно недоступна
error-model-unavailable = ⏳ { $model } временно недоступна: её сервис не отвечает. Ничего не списано. Попробуйте через несколько минут или выберите другую модель.
fail-unavailable = Эта модель временно недоступна: её сервис не отвечает. Попробуйте через несколько минут или выберите другую модель.
