package com.amazonaws.services.sns;

public interface AmazonSNS {
    void publish(String topicArn, String message);
}
