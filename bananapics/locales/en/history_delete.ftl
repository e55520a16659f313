## Deleting a generation from the history

btn-history-delete = 🗑 Delete from history
btn-history-delete-yes = 🗑 Yes, delete it
history-delete-ask = 🗑 Delete this generation from your history? Its images and reference photos are removed from our storage; the pictures already in this chat stay. This cannot be undone.
toast-history-deleted = 🗑 Deleted from your history.
error-job-running = This generation is still running. Wait until it finishes.
