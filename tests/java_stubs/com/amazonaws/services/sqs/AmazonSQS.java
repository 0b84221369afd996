package com.amazonaws.services.sqs;

public interface AmazonSQS {
    void sendMessage(String queueUrl, String body);
}
