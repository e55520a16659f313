# The per-model circuit breaker (services.breaker): a model whose provider keeps failing.
btn-model-unavailable = ⏳ { $name } · temporarily unavailable
error-model-unavailable = ⏳ { $model } is temporarily unavailable: its service is not answering. Nothing was charged. Try again in a few minutes or choose another model.
fail-unavailable = This model is temporarily unavailable: its service is not answering. Try again in a few minutes or choose another model.
