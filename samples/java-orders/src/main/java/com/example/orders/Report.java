package com.example.orders;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;

public class Report implements RequestHandler<Map<String, String>, Long> {
    private static final String URL = System.getenv("JDBC_URL");

    @Override
    public Long handleRequest(Map<String, String> input, Context context) {
        try {
            Connection conn = DriverManager.getConnection(URL, System.getenv("DB_USER"), System.getenv("DB_PASSWORD"));
            Statement statement = conn.createStatement();
            ResultSet rows = statement.executeQuery("select count(*) from orders");
            rows.next();
            long count = rows.getLong(1);
            conn.close();
            return count;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
