package com.example.orders;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.amazonaws.services.sqs.AmazonSQS;
import com.amazonaws.services.sqs.AmazonSQSClientBuilder;

public class OrderWorker implements RequestHandler<SQSEvent, Void> {
    private static final String DONE_QUEUE = System.getenv("DONE_QUEUE_URL");

    @Override
    public Void handleRequest(SQSEvent event, Context context) {
        for (SQSEvent.SQSMessage message : event.getRecords()) {
            AmazonSQS sqs = AmazonSQSClientBuilder.defaultClient();
            sqs.sendMessage(DONE_QUEUE, message.getBody());
        }
        return null;
    }
}
