"""socket.io for Open WebUI's web app (`/ws/socket.io`): who a socket is (auth.py), which rooms
it is in (rooms.py), the server and its handlers (server.py), and what a turn says to the web
app through it (emitter.py)."""
