## Balance, top-up, payments and /paysupport (bananapics/bot/payments.py)

balance-debt = ⚠️ Debt: { $debt ->
    [one] { $debt } token
   *[other] { $debt } tokens
}. A refunded payment took back tokens you had already spent. Your next top-up repays it first; generation is paused until then.
btn-pay = Pay ⭐ { $stars }
btn-packages = ◀ Packages
invoice-sent = ⬇️ Your invoice is below: ⭐ { $stars } → { $tokens ->
    [one] { $tokens } token
   *[other] { $tokens } tokens
}. Pay it within { $minutes ->
    [one] { $minutes } minute
   *[other] { $minutes } minutes
}.
topup-debt-repaid = ↩️ { $repaid ->
    [one] { $repaid } token
   *[other] { $repaid } tokens
} of it repaid your debt.
payment-unmatched = ⚠️ Telegram took your payment of ⭐ { $stars }, but it matches none of your invoices. Write to /paysupport and quote this charge id, and we will credit or refund it: { $charge }
payment-refunded-debt = ⚠️ { $debt ->
    [one] { $debt } token
   *[other] { $debt } tokens
} of them were already spent and are now a debt. Your next top-up repays it; generation is paused until then.
error-in-debt = ⚠️ A refunded payment left a debt on your balance. Top up to repay it, then try again: 💰 Balance.
error-package-gone = This package is no longer on sale. Choose another one.
payments-title-page = 🧾 Your payments · page { $page }/{ $pages }
btn-payment = { $date } · ⭐ { $stars } · { $status }
payment-title = 🧾 Payment of { $date }
payment-detail-stars = ⭐ { $stars } → { $tokens ->
    [one] { $tokens } token
   *[other] { $tokens } tokens
}
payment-detail-bonus = 🎁 Including a bonus of { $bonus ->
    [one] { $bonus } token
   *[other] { $bonus } tokens
}
payment-detail-status = Status: { $status }
payment-detail-charge = Charge id (quote it to support): { $charge }
payment-detail-debt = Left as debt by the refund: { $debt ->
    [one] { $debt } token
   *[other] { $debt } tokens
}
paysupport-recent = Your recent payments:
paysupport-charge-hint = Quote the charge id from 🧾 Payments in your message, so we find the payment at once.
ref-cashback-reversed = ↩️ A top-up by a friend you invited was refunded, so its cashback of { $tokens ->
    [one] { $tokens } token
   *[other] { $tokens } tokens
} was taken back. Balance: { $balance }
error-cashback-locked = ⏳ Only { $available } of your tokens can be spent right now: referral cashback can be spent a few days after your friend's top-up. This generation costs { $needed }.
