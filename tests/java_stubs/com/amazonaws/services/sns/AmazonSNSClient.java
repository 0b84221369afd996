package com.amazonaws.services.sns;

public class AmazonSNSClient {
    public AmazonSNSClient() { }
    public void publish(String topicArn, String message) { }
}
