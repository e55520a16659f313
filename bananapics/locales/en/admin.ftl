# Texts the admin service layer needs users to see (maintenance mode, switched-off features and models).
maintenance-default = 🛠 The bot is under maintenance. Please come back a little later.
error-feature-off = This feature is switched off right now.
fail-model-disabled = This model was switched off before your request started. Choose another model.
