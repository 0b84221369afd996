package com.amazonaws.services.sqs;

public class AmazonSQSClientBuilder {
    public static AmazonSQS defaultClient() { return null; }
    public static AmazonSQSClientBuilder standard() { return new AmazonSQSClientBuilder(); }
    public AmazonSQSClientBuilder withRegion(String region) { return this; }
    public AmazonSQS build() { return null; }
}
