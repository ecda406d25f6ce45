"""almenvideo: video consultations for Danish general practice."""
