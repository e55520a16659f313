# BananaPicsBot — русский: профиль, подробности истории, шаблоны и тренды.
# Ключи и $placeholders должны совпадать с uz/content.ftl и en/content.ftl (проверяет tests/test_i18n.py).

## Профиль

cmd-profile = Мой профиль и статистика
btn-profile = 👤 Профиль
profile-title = 👤 Ваш профиль
profile-id = ID: { NUMBER($tg_id, useGrouping: 0) } · язык: { $language }
profile-balance = 💰 Баланс: { $balance ->
    [one] { $balance } токен
    [few] { $balance } токена
   *[many] { $balance } токенов
} · в резерве: { $held }
profile-generations = 🎨 Генераций: { $jobs } · изображений: { $count } · потрачено: { $total ->
    [one] { $total } токен
    [few] { $total } токена
   *[many] { $total } токенов
}
profile-referrals = 👥 Приглашено друзей: { $friends } · заработано токенов: { $earned }

## Подробности истории

history-detail-images = Изображений: { $count }
history-ref-gone = Фото-референс этой генерации больше не хранится. Нажмите ✏️ Использовать промпт и отправьте фото снова.
toast-history-resent = 📤 Отправляю изображения ещё раз…
toast-history-resend-busy = ⏳ Они уже в пути.
history-regen-note = 🔁 Тот же запрос ещё раз. Проверьте цену и подтвердите.
history-reuse-note = ✏️ Промпт скопирован: «{ $prompt }»
    Отправьте новое описание, чтобы заменить его, или продолжайте.

## Шаблоны и тренды

btn-template-category = { $category } · { $count }
template-category-page = { $category } · { $page }/{ $pages }
template-model = Модель: { $model } · { $price ->
    [one] { $price } токен
    [few] { $price } токена
   *[many] { $price } токенов
}
template-share-text = 🧩 Попробуйте этот шаблон в BananaPics
trending-line = { $n }. { $title } · { $count ->
    [one] { $count } использование
    [few] { $count } использования
   *[many] { $count } использований
}
trending-pinned-line = 📌 { $title }{ $count ->
    [0] {""}
    [one] {" · "}{ $count } использование
    [few] {" · "}{ $count } использования
   *[many] {" · "}{ $count } использований
}
list-page = Страница { $page }/{ $pages }
history-resent-done = 📤 Отправлено снова: { $count ->
    [one] { $count } изображение
    [few] { $count } изображения
   *[many] { $count } изображений
}, файлы в полном качестве — выше. Ничего не списано.
