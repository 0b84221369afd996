package com.amazonaws;

public class ClientConfiguration {
    public ClientConfiguration withMaxConnections(int connections) { return this; }
}
