"""Route modules. Each exposes ``router``; :func:`bastion.api.app.create_app` includes them."""
