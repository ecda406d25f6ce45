"""aiortc peers for the places where the server itself takes part in media: the line test echo."""
