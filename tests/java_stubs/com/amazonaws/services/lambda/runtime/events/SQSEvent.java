package com.amazonaws.services.lambda.runtime.events;

import java.util.List;

public class SQSEvent {
    public List<SQSMessage> getRecords() { return List.of(); }

    public static class SQSMessage {
        public String getBody() { return ""; }
    }
}
