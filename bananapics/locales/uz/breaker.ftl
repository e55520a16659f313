# The per-model circuit breaker (services.breaker): a model whose provider keeps failing.
btn-model-unavailable = ⏳ { $name } · vaqtincha ishlamayapti
error-model-unavailable = ⏳ { $model } vaqtincha ishlamayapti: uning xizmati javob bermayapti. Hech narsa yechilmadi. Bir necha daqiqadan so‘ng qayta urinib ko‘ring yoki boshqa model tanlang.
fail-unavailable = Bu model vaqtincha ishlamayapti: uning xizmati javob bermayapti. Bir necha daqiqadan so‘ng qayta urinib ko‘ring yoki boshqa model tanlang.
