## Settings: the user's own defaults (default model, default aspect ratio)

settings-model-recommended = { $model } (recommended)
settings-ratio-auto = Model's default
settings-model-follow = ⭐ Always the recommended one (now { $model })
