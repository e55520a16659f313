# Мастер генерации: настройки, референсы, прогресс и результаты (bananapics/bot/wizard.py,
# options.py, references.py, progress.py, results.py). Ключи и $переменные как в uz/en.

## промпт

gen-prompt-current = Сейчас: «{ $prompt }». Отправьте новое описание, чтобы заменить его.
btn-keep-prompt = ▶ Оставить
gen-prompt-updated = ✅ Описание обновлено.

## референсы

btn-refs-remove-last = ↩️ Убрать последнее
gen-refs-removed = Последнее фото убрано.
gen-refs-kept = ⚠️ Добавлено { $count } из { $asked } фото: { $model } принимает не больше { $max }. Остальные не добавлены.
gen-refs-full = ⚠️ { $model } принимает не больше { $max ->
    [one] { $max } фото
    [few] { $max } фото
   *[many] { $max } фото
}, и вы уже добавили все. Новое фото не добавлено: сначала уберите лишние.
error-too-many-refs = { $model } принимает не больше { $max ->
    [one] { $max } фото-референса
    [few] { $max } фото-референсов
   *[many] { $max } фото-референсов
}. Уберите лишние и попробуйте снова.

## настройки

btn-settings-next = ✅ Далее — { $price ->
    [one] { $price } токен
    [few] { $price } токена
   *[many] { $price } токенов
}
btn-option-price = { $value } · { $price }
error-count-out-of-range = { $model } создаёт от 1 до { $max } изображений за запрос. Выберите другое число.

## прогресс и результаты

btn-refresh = 🔄 Обновить
progress-done = ✅ Готово: { $count ->
    [one] { $count } изображение
    [few] { $count } изображения
   *[many] { $count } изображений
} — смотрите ниже в этом чате.
gen-other-model = 🔀 То же описание. Выберите другую модель:
