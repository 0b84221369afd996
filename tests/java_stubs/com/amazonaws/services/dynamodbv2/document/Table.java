package com.amazonaws.services.dynamodbv2.document;

public class Table {
    public String getTableName() { return ""; }
}
