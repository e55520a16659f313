## QA fixes of the generate flow

error-unknown-command = 🤔 Такой команды нет. Чтобы описать картинку, просто отправьте текст без «/» или воспользуйтесь кнопками ниже.
