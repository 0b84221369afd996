export interface Order {
  id: string;
  customer: string;
  status: string;
  totalCents?: number;
}

export interface Summary {
  day: string;
  orders: number;
  byStatus: Record<string, number>;
  totalCents: number;
}

export function summarise(day: string, orders: Order[]): Summary {
  const byStatus: Record<string, number> = {};
  let totalCents = 0;
  for (const order of [...orders].sort((a, b) => a.id.localeCompare(b.id))) {
    byStatus[order.status] = (byStatus[order.status] ?? 0) + 1;
    totalCents += order.totalCents ?? 0;
  }
  return { day, orders: orders.length, byStatus, totalCents };
}
