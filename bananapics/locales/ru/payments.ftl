## Баланс, пополнение, платежи и /paysupport (bananapics/bot/payments.py)

balance-debt = ⚠️ Долг: { $debt ->
    [one] { $debt } токен
    [few] { $debt } токена
   *[many] { $debt } токенов
}. Возврат платежа забрал токены, которые вы уже потратили. Следующее пополнение сначала погасит долг; до этого генерация приостановлена.
btn-pay = Оплатить ⭐ { $stars }
btn-packages = ◀ Пакеты
invoice-sent = ⬇️ Ваш счёт ниже: ⭐ { $stars } → { $tokens ->
    [one] { $tokens } токен
    [few] { $tokens } токена
   *[many] { $tokens } токенов
}. Оплатите его в течение { $minutes ->
    [one] { $minutes } минуты
   *[other] { $minutes } минут
}.
topup-debt-repaid = ↩️ Из них { $repaid ->
    [one] { $repaid } токен ушёл
    [few] { $repaid } токена ушли
   *[many] { $repaid } токенов ушли
} на погашение долга.
payment-unmatched = ⚠️ Telegram принял ваш платёж ⭐ { $stars }, но он не подходит ни к одному вашему счёту. Напишите в /paysupport и укажите этот идентификатор платежа — мы начислим токены или вернём деньги: { $charge }
payment-refunded-debt = ⚠️ { $debt ->
    [one] { $debt } токен уже был потрачен и стал
    [few] { $debt } токена уже были потрачены и стали
   *[many] { $debt } токенов уже были потрачены и стали
} долгом. Следующее пополнение погасит его; до этого генерация приостановлена.
error-in-debt = ⚠️ После возврата платежа на балансе остался долг. Пополните баланс, чтобы погасить его, и попробуйте снова: 💰 Баланс.
error-package-gone = Этот пакет больше не продаётся. Выберите другой.
payments-title-page = 🧾 Ваши платежи · стр. { $page }/{ $pages }
btn-payment = { $date } · ⭐ { $stars } · { $status }
payment-title = 🧾 Платёж от { $date }
payment-detail-stars = ⭐ { $stars } → { $tokens ->
    [one] { $tokens } токен
    [few] { $tokens } токена
   *[many] { $tokens } токенов
}
payment-detail-bonus = 🎁 Из них бонус: { $bonus }
payment-detail-status = Статус: { $status }
payment-detail-charge = Идентификатор платежа (укажите его поддержке): { $charge }
payment-detail-debt = Долг после возврата: { $debt ->
    [one] { $debt } токен
    [few] { $debt } токена
   *[many] { $debt } токенов
}
paysupport-recent = Ваши последние платежи:
paysupport-charge-hint = Укажите в сообщении идентификатор платежа из раздела 🧾 Платежи — так мы сразу найдём ваш платёж.
ref-cashback-reversed = ↩️ Пополнение приглашённого вами друга возвращено, поэтому кешбэк за него ({ $tokens ->
    [one] { $tokens } токен
    [few] { $tokens } токена
   *[many] { $tokens } токенов
}) списан. Баланс: { $balance }
error-cashback-locked = ⏳ Сейчас можно потратить только { $available } ток.: реферальный кешбэк становится доступным через несколько дней после пополнения друга. Эта генерация стоит { $needed }.
