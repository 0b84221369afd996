package com.amazonaws.services.dynamodbv2;

public class AmazonDynamoDBClientBuilder {
    public static AmazonDynamoDB defaultClient() { return null; }
    public static AmazonDynamoDBClientBuilder standard() { return new AmazonDynamoDBClientBuilder(); }
    public AmazonDynamoDBClientBuilder withRegion(String region) { return this; }
    public AmazonDynamoDB build() { return null; }
}
