package com.amazonaws.services.dynamodbv2;

public interface AmazonDynamoDB {
}
