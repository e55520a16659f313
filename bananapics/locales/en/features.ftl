# What users see while an admin has a feature switched off (services.toggles).
topup-off = ⏸ Top-ups are paused right now. Please try later. An invoice you already got can still be paid.
ref-off = ⏸ Invitations are switched off right now: invite links bind no one and pay no rewards.
