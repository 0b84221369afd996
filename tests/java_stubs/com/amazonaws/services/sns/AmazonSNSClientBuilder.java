package com.amazonaws.services.sns;

public class AmazonSNSClientBuilder {
    public static AmazonSNS defaultClient() { return null; }
    public static AmazonSNSClientBuilder standard() { return new AmazonSNSClientBuilder(); }
    public AmazonSNSClientBuilder withRegion(String region) { return this; }
    public AmazonSNS build() { return null; }
}
