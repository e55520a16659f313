# The generate wizard's settings, references, progress and results (bananapics/bot/wizard.py,
# options.py, references.py, progress.py, results.py). Same keys and $placeholders in uz/ru/en.

## prompt

gen-prompt-current = Now: “{ $prompt }”. Send a new description to replace it.
btn-keep-prompt = ▶ Keep it
gen-prompt-updated = ✅ Description updated.

## references

btn-refs-remove-last = ↩️ Remove last
gen-refs-removed = The last photo was removed.
gen-refs-kept = ⚠️ Kept { $count } of { $asked } photos: { $model } takes at most { $max }. The rest were not added.
gen-refs-full = ⚠️ { $model } takes at most { $max ->
    [one] { $max } photo
   *[other] { $max } photos
}, and you have added them all. Nothing new was added: remove some first.
error-too-many-refs = { $model } takes at most { $max ->
    [one] { $max } reference photo
   *[other] { $max } reference photos
}. Remove some and try again.

## settings

btn-settings-next = ✅ Next — { $price ->
    [one] { $price } token
   *[other] { $price } tokens
}
btn-option-price = { $value } · { $price }
error-count-out-of-range = { $model } makes 1 to { $max } images per request. Choose another number.

## progress and results

btn-refresh = 🔄 Refresh
progress-done = ✅ Done: { $count ->
    [one] { $count } image
   *[other] { $count } images
} — see them below in this chat.
gen-other-model = 🔀 Same description. Choose another model:
