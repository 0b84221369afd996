package com.amazonaws.services.dynamodbv2.datamodeling;

import com.amazonaws.services.dynamodbv2.AmazonDynamoDB;

public class DynamoDBMapper {
    public DynamoDBMapper(AmazonDynamoDB client) { }
    public <T> T load(Class<T> type, Object key) { return null; }
    public void save(Object item) { }
}
