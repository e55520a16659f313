# BananaPicsBot — English: profile, history details, templates and trending.
# Keys and $placeholders must match uz/content.ftl and ru/content.ftl (tests/test_i18n.py checks).

## Profile

cmd-profile = My profile and statistics
btn-profile = 👤 Profile
profile-title = 👤 Your profile
profile-id = ID: { NUMBER($tg_id, useGrouping: 0) } · language: { $language }
profile-balance = 💰 Balance: { $balance ->
    [one] { $balance } token
   *[other] { $balance } tokens
} · held: { $held }
profile-generations = 🎨 Generations: { $jobs } · images: { $count } · spent: { $total ->
    [one] { $total } token
   *[other] { $total } tokens
}
profile-referrals = 👥 Friends invited: { $friends } · tokens earned: { $earned }

## History details

history-detail-images = Images: { $count }
history-ref-gone = A reference photo of this generation is no longer stored. Tap ✏️ Use this prompt and send the photo again.
toast-history-resent = 📤 Sending the images again…
toast-history-resend-busy = ⏳ They are already on their way.
history-regen-note = 🔁 The same request again. Check the price and confirm.
history-reuse-note = ✏️ Prompt copied: “{ $prompt }”
    Send a new description to replace it, or continue.

## Templates and trending

btn-template-category = { $category } · { $count }
template-category-page = { $category } · { $page }/{ $pages }
template-model = Model: { $model } · { $price ->
    [one] { $price } token
   *[other] { $price } tokens
}
template-share-text = 🧩 Try this template in BananaPics
trending-line = { $n }. { $title } · { $count ->
    [one] { $count } use
   *[other] { $count } uses
}
trending-pinned-line = 📌 { $title }{ $count ->
    [0] {""}
    [one] {" · "}{ $count } use
   *[other] {" · "}{ $count } uses
}
list-page = Page { $page }/{ $pages }
history-resent-done = 📤 Sent again: { $count ->
    [one] { $count } image
   *[other] { $count } images
}, with the full-quality files above. Nothing was charged.
