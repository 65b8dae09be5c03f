"""Analysis services: the data a run reads (`data`), the statistics it calls (`compute`),
and the runs themselves (`runs`)."""
