SELECT doc FROM sources;
