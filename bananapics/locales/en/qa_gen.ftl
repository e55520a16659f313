## QA fixes of the generate flow

error-unknown-command = 🤔 I don't know that command. To describe an image, just send the text without “/”, or use the buttons below.
