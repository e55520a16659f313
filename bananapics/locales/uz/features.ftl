# What users see while an admin has a feature switched off (services.toggles).
topup-off = ⏸ Hisobni to‘ldirish hozircha to‘xtatilgan. Keyinroq urinib ko‘ring. Olingan hisobni baribir to‘lash mumkin.
ref-off = ⏸ Takliflar hozircha o‘chirilgan: taklif havolalari hech kimni bog‘lamaydi va mukofot berilmaydi.
